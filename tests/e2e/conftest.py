"""End-to-end tests: the real app on a live server, driven in Debian's Chromium by Playwright,
with axe-core on every page visited and a screenshot of every step in test-artifacts/."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from ..conftest import unavailable

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture
def async_unsafe(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; the ORM calls a test makes
    between browser steps are still synchronous and safe. Only for the e2e test itself: the
    variable must not leak into other tests (`check --deploy` refuses it)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(async_unsafe):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def e2e_settings(settings):
    """Plain HTTP on loopback: cookies without Secure, static files found by name."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings


# The widths every page is checked at: a staff tablet and a relative's phone (and the
# desktop the journey starts at).
WIDTHS = (768, 390)


class Journey:
    """One browser page for one user, with a screenshot and an axe check per step, at the
    journey's own width and, with `widths`, at each of WIDTHS too (no horizontal scroll,
    no serious or critical axe violation at any of them)."""

    def __init__(self, browser, base_url: str, name: str, *, width: int = 1024, height: int = 900):
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, locale="sv-SE"
        )
        self.page = self.context.new_page()
        self.base_url = base_url
        self.dir = ARTIFACTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.step = 0
        self.navigations = 0
        self.checked: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("framenavigated", self._navigated)
        # Uncaught JavaScript errors (failed loads while offline on purpose are not errors).
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _navigated(self, frame):
        if frame == self.page.main_frame:
            self.navigations += 1

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        return response

    def login(self, username: str, password: str):
        self.goto("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        assert "/accounts/login/" not in self.page.url, f"login failed for {username}"

    def fits(self) -> None:
        """The page fits the viewport: nothing to scroll sideways."""
        scroll, inner = self.page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll <= inner, f"{self.page.url} scrolls sideways at {inner} px ({scroll} px wide)"

    def check(self, label: str, *, widths=()):
        """Screenshot the page, assert axe finds no serious or critical violation and that
        it does not scroll sideways; with `widths`, the same at each of those widths."""
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        self._check_here(f"{self.step:02d}-{slug}", label)
        if widths:
            size = self.page.viewport_size
            for width in widths:
                if width == size["width"]:
                    continue
                self.page.set_viewport_size({"width": width, "height": size["height"]})
                self._check_here(f"{self.step:02d}-{slug}-{width}", f"{label} at {width} px")
            self.page.set_viewport_size(size)
        self.checked.append(self.page.url)

    def _check_here(self, name: str, label: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.fits()
        self.page.screenshot(path=str(self.dir / f"{name}.png"), full_page=True)
        results = Axe().run(self.page)
        blocking = [
            f"{v['id']} ({v['impact']}): {v['help']} – "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:3])
            for v in results.response["violations"]
            if v.get("impact") in BLOCKING_IMPACTS
        ]
        assert not blocking, f"{label} ({self.page.url}): " + "\n".join(blocking)

    def submit(self, form_selector: str):
        with self.page.expect_navigation():
            self.page.click(f"{form_selector} button[type=submit]")
        assert self.page.locator("text=Server Error").count() == 0

    def close(self):
        self.context.close()


@pytest.fixture
def journey(async_unsafe, browser, live_server, e2e_settings):
    journeys = []

    def _make(name: str, **kwargs) -> Journey:
        j = Journey(browser, live_server.url, name, **kwargs)
        journeys.append(j)
        return j

    yield _make
    for j in journeys:
        j.close()


@pytest.fixture
def mail(e2e_settings, live_server):
    """The SMTP server on loopback that every email goes to, with the outbox delivered in
    the request that writes it (as `make run` does without Redis): the inbox is what each
    person received."""
    from vom.celery import app

    from ..notify_support import smtp_server, use_smtp

    with smtp_server() as (inbox, port):
        use_smtp(e2e_settings, port)
        e2e_settings.SITE_URL = live_server.url  # the links in the emails
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        try:
            yield inbox
        finally:
            app.conf.task_always_eager = eager
