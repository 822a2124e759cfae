import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vom.settings")

application = get_wsgi_application()

from . import dblimits  # noqa: E402 - needs the settings loaded above

# Web requests: every statement bounded (DB_STATEMENT_TIMEOUT_MS).
dblimits.use("web")
