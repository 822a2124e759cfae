"""HTML to PDF with WeasyPrint, without touching the network.

The HTML of a PDF carries text typed by users. A stray <img src="http://..."> or
<link href="file:///etc/passwd"> must not make the server fetch anything: the fetcher
accepts data: URLs and the application's own static files, nothing else.
"""

from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage


class RefusedURL(ValueError):
    pass


def pdf_static_url(name: str) -> str:
    """The URL a PDF template uses for one of the app's static files (resolved by the fetcher)."""
    return f"{settings.SITE_URL}{settings.STATIC_URL}{name}"


def static_file_path(url: str) -> str | None:
    """The file behind a static URL of this application (hashed or plain name), or None."""
    parsed = urlparse(url)
    site = urlparse(settings.SITE_URL)
    if parsed.scheme not in ("http", "https") or parsed.netloc != site.netloc:
        return None
    path = unquote(parsed.path)
    if not path.startswith(settings.STATIC_URL) or ".." in path.split("/"):
        return None
    name = path[len(settings.STATIC_URL) :]
    found = finders.find(name)
    if found:
        return found
    try:
        if staticfiles_storage.exists(name):
            return staticfiles_storage.path(name)
    except (NotImplementedError, ValueError):
        return None
    return None


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = static_file_path(url)
            if path is None:
                raise RefusedURL(f"refused to fetch {url[:80]!r} while rendering a PDF")
            with open(path, "rb") as handle:
                body = handle.read()
            content_type = "text/css" if path.endswith(".css") else "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return SafeURLFetcher


def safe_url_fetcher():
    """A WeasyPrint URL fetcher for data: URLs and this application's static files only."""
    return _fetcher_class()(timeout=5, allow_redirects=False)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(
        string=html, base_url=settings.SITE_URL + "/", url_fetcher=safe_url_fetcher()
    ).write_pdf()
