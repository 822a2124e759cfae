"""`make bench`: the product under a day's load against a bare Django baseline.

Builds (or reuses) a PostgreSQL database with a large area, starts gunicorn with two
workers on 127.0.0.1 and loads it with wrk (16 connections, a fixed duration) with the mix
of scripts/bench_mix.py: over 30 signed-in staff of different organisations and roles on
their own caseloads, distinct persons and meetings, about 5 % writes. Prints one line per
measure:

    bench mix rps=<n> p50_ms=<n> p99_ms=<n> ratio=<rps / baseline rps>
    bench mix_<kind> n=<n> rps=<n> p50_ms=<n> p99_ms=<n> ratio=<baseline ms / kind ms>
    bench cold_render <kind> ms_median=<n> ms_p99=<n> queries=<n> records=<n>

where the baseline is the bare view measured just before and just after the load (the
machine's speed drifts), then the timings of the other measured operations.
BENCH_ONLY=mix,cold (or a page: worklist, person, meeting, followup, dashboard, loaded
alone as one user; fhir_careplans, a record system's search for 50 care plans through the
FHIR API with its bearer token) measures only those. All traffic goes to 127.0.0.1 and
every step has a time limit.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = os.environ.get("BENCH_DB", "vom_bench")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PERSONS = int(os.environ.get("BENCH_PERSONS", "100000"))
MEETINGS = int(os.environ.get("BENCH_MEETINGS", "200000"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
# BENCH_ONLY=mix,cold or single pages (worklist, person, ...): only these, without the other
# operations (a quicker run while working on one page). The full run: the mix, the cold
# renders and the other operations.
ONLY = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
MIX_PARTS = ("mix", "cold")

ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "SECRET_KEY": "bench-only-not-secret-" + "x" * 40,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_COOKIES": "false",
    "SECURE_HSTS_SECONDS": "0",
    "VOM_BENCH": "true",
    "LOG_LEVEL": "WARNING",
    # The demo area's invitations stay in memory instead of filling the output.
    "EMAIL_URL": "memorymail://",
}
ENV.pop("REDIS_URL", None)
ENV.pop("CACHE_URL", None)
# With Redis, gunicorn and a Celery worker share it as the product does in production, so a
# large uncached report is computed in the background (reports/cache.py) and measured so.
BENCH_REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
BENCH_CACHE = os.environ.get("BENCH_CACHE", "redis://127.0.0.1:6379/10")


def redis_reachable(url: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def step(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def manage(*args: str, timeout: int = 1800) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return result.stdout


def ensure_database() -> None:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DB_NAME}"')
    conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django():
    os.environ.update(ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vom.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def steady_state() -> None:
    """The database as a running deployment has it hours after the seed: autovacuum has
    updated the statistics and visibility map, and a checkpoint has written the seed's
    pages (right after a seed, the checkpointer writing gigabytes while wrk runs gave the
    start page a p99 of 163 ms)."""
    import psycopg2

    conn = psycopg2.connect(f"{PG}/{DB_NAME}")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except psycopg2.errors.InsufficientPrivilege:
            step("no CHECKPOINT (needs superuser or pg_checkpoint): the first page may be slower")
    conn.close()


def credential_header(cookie: str) -> tuple[str, str]:
    """A session's cookies, or a record system's bearer token (bench_targets: the FHIR API)."""
    if cookie.startswith("Bearer "):
        return "Authorization", cookie
    return "Cookie", cookie


def wrk(url: str, cookie: str | None, *, script: str | None = None, env=None) -> dict:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "--timeout", "5s"]
    if cookie:
        command += ["-H", ": ".join(credential_header(cookie))]
    if script:
        command += ["-s", script]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=120, check=True, env=env
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)

    def percentile(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rps": rps,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


# --- The day's mix and the cold renders (scripts/bench_mix.py, bench_cold.py) ---


def run_mix(base: str, baselines: list[float], access_log: Path) -> None:
    """The mix between two runs of the bare view; its line, and one per kind inside it."""
    import bench_mix

    schedule = access_log.parent / "mix.tsv"
    seconds = float(DURATION.rstrip("s"))
    # Long enough that no thread comes round to its first request again (an autosave sent
    # twice with the same revision is a conflict, as it would be for a browser).
    staff, samples = bench_mix.build_mix(schedule, requests=int(seconds * 2500) + 1000)
    print("bench mix_staff " + " ".join(f"{k}={v}" for k, v in staff.items()), flush=True)
    bench_mix.check(base, samples)
    _rows, mark = bench_mix.read_access_log(access_log)
    before = wrk(f"{base}/bench/baseline", None)
    rows, mark = bench_mix.read_access_log(access_log, mark)
    baseline_rows = rows
    script = str(ROOT / "scripts" / "bench_mix.lua")
    result = wrk(base, None, script=script, env={**os.environ, "BENCH_MIX_FILE": str(schedule)})
    mix_rows, mark = bench_mix.read_access_log(access_log, mark)
    after = wrk(f"{base}/bench/baseline", None)
    rows, mark = bench_mix.read_access_log(access_log, mark)
    baseline_rows += rows
    baselines += [before["rps"], after["rps"]]
    reference = (before["rps"] + after["rps"]) / 2
    errors = sum(1 for _kind, status, _ms in mix_rows if status >= 400)
    print(
        f"bench mix rps={result['rps']:.0f} p50_ms={result['p50']:.1f} "
        f"p99_ms={result['p99']:.1f} ratio={result['rps'] / reference:.2f}"
        f"{f' errors={errors}' if errors else ''}",
        flush=True,
    )
    for line in bench_mix.kind_stats(mix_rows, seconds, bench_mix.mean_ms(baseline_rows)):
        print(line, flush=True)


def cold_render() -> None:
    """In its own process (warm, nothing of these records seen before)."""
    result = subprocess.run(
        [PYTHON, str(ROOT / "scripts" / "bench_cold.py")],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    print(result.stdout.strip() or f"bench cold_render failed: {result.stderr[-800:]}", flush=True)


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing. Debian/Ubuntu: apt-get install wrk")
    started = time.monotonic()
    ensure_database()
    step(f"database {DB_NAME}: migrating")
    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    step(f"seeding (reused when present): {PERSONS} persons, {MEETINGS} meetings")
    t0 = time.monotonic()
    print(manage("seed_demo", "--persons", str(PERSONS), "--meetings", str(MEETINGS),
                 "--quiet-logins", timeout=3600).strip())  # fmt: skip
    step(f"seeding took {time.monotonic() - t0:.1f} s")
    use_redis = redis_reachable(BENCH_REDIS)
    if use_redis:
        # As in production (docker-compose.yml): broker and a shared cache on Redis, so
        # sessions and the signed-in user are read from the cache (vom.settings).
        ENV["REDIS_URL"] = BENCH_REDIS
        ENV["CACHE_URL"] = BENCH_CACHE
    setup_django()
    if use_redis:
        from django.core.cache import cache

        cache.clear()  # the bench's own cache database: nothing from an earlier run
    steady_state()
    from bench_targets import measure_operations, targets  # noqa: E402 - needs Django set up

    pages, cookies = targets([name for name in ONLY if name not in MIX_PARTS])
    if not ONLY or set(ONLY) & set(MIX_PARTS):
        pages = {name: page for name, page in pages.items() if name in ONLY}
    port = free_port()
    access_log = Path(tempfile.mkdtemp(prefix="vom-bench-")) / "access.log"
    base = f"http://127.0.0.1:{port}"
    worker = None
    if use_redis:
        step(f"starting a Celery worker on {BENCH_REDIS}")
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "vom", "worker", "--pool=solo", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "-n", f"bench-{port}@%h"],
            cwd=ROOT, env=ENV, start_new_session=True,
        )  # fmt: skip
    else:
        step(f"no Redis at {BENCH_REDIS}: reports are computed in the request")
    step(f"starting gunicorn (2 workers) on {base}")
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "vom.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         # Path, status and microseconds of every request: the mix's kinds (bench_mix).
         "--access-logfile", str(access_log), "--access-logformat", "%(U)s %(s)s %(D)s"],
        cwd=ROOT, env=ENV, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        baseline = wrk(f"{base}/bench/baseline", None)
        results["baseline"] = baseline
        print(
            f"bench baseline rps={baseline['rps']:.0f} p50_ms={baseline['p50']:.1f} "
            f"p99_ms={baseline['p99']:.1f} ratio=1.00",
            flush=True,
        )
        # The same bare view as a signed-in nurse: what the session, the user, the TOTP
        # check and the memberships cost every page before it does anything of its own.
        signed_in = wrk(f"{base}/bench/baseline", cookies["nurse"])
        results["baseline_signed_in"] = signed_in
        print(
            f"bench baseline_signed_in rps={signed_in['rps']:.0f} p50_ms={signed_in['p50']:.1f} "
            f"p99_ms={signed_in['p99']:.1f} ratio={signed_in['rps'] / baseline['rps']:.2f}",
            flush=True,
        )
        # The machine's speed drifts by tens of percent from minute to minute (a shared
        # virtual machine), so each page's ratio is to the bare view measured just before
        # and just after it, not to the first baseline only.
        baselines = [baseline["rps"]]
        for name, (path, who) in pages.items():
            request = urllib.request.Request(
                f"{base}{path}", headers=dict([credential_header(cookies[who])])
            )
            status = urllib.request.urlopen(request, timeout=10).status  # noqa: S310 - loopback
            if status != 200:
                raise SystemExit(f"{name} answered {status}")
            result = wrk(f"{base}{path}", cookies[who])
            results[name] = result
            before = baselines[-1]
            baselines.append(wrk(f"{base}/bench/baseline", None)["rps"])
            reference = (before + baselines[-1]) / 2
            errors = f" errors={result['errors']}" if result["errors"] else ""
            print(
                f"bench {name} rps={result['rps']:.0f} p50_ms={result['p50']:.1f} "
                f"p99_ms={result['p99']:.1f} ratio={result['rps'] / reference:.2f}{errors}",
                flush=True,
            )
        if not ONLY or "mix" in ONLY:
            run_mix(base, baselines, access_log)
        print(f"bench baseline_runs rps={','.join(f'{rps:.0f}' for rps in baselines)}", flush=True)
        if not ONLY or "cold" in ONLY:
            cold_render()
        for line in [] if ONLY else measure_operations(base, cookies, wrk):
            print(line, flush=True)
    finally:
        for process in (server, worker):
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    step(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
