FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 vom
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install . && python manage.py compile_translations \
 && SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput
USER vom
EXPOSE 8000
# Exports of 200,000 meetings stream for up to a few minutes: a longer worker timeout.
CMD ["gunicorn", "vom.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "300", "--access-logfile", "-"]
