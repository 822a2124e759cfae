"""HTML to PDF with WeasyPrint, without touching the network: the one URL fetcher of every
PDF the product renders (the register extract here, the meeting summary in meetings.summary).

The HTML of a PDF carries text typed by users. A stray <img src="http://..."> or
<link href="file:///etc/passwd"> must not make the server fetch anything: the fetcher
accepts data: URLs and the application's own static files, read from disk, nothing else.
Static files are addressed under a reserved host (RFC 6761: .invalid never resolves), so a
URL that is not ours cannot be mistaken for one of ours.
"""

import mimetypes
import os
import posixpath
from urllib.parse import unquote, urlparse

from django.contrib.staticfiles import finders

PDF_HOST = "vom-static.invalid"
PDF_BASE_URL = f"https://{PDF_HOST}/"
PDF_STATIC_URL = f"https://{PDF_HOST}/static/"
STATIC_SUFFIXES = (".css", ".ttf", ".otf", ".woff", ".woff2", ".png", ".jpg", ".svg")


class RefusedURL(ValueError):
    pass


def pdf_static_url(name: str) -> str:
    """The URL a PDF template uses for one of the app's static files (resolved by the fetcher)."""
    return f"{PDF_STATIC_URL}{name}"


def static_file_path(url: str) -> str | None:
    """The file on disk behind a PDF static URL, found by the staticfiles finders; or None."""
    parsed = urlparse(url)
    if parsed.scheme != "https" or parsed.netloc != PDF_HOST or parsed.query or parsed.params:
        return None
    if not parsed.path.startswith("/static/"):
        return None
    name = unquote(parsed.path[len("/static/") :])
    if "\\" in name or "\x00" in name or name != posixpath.normpath(name):
        return None
    if name.startswith(("/", "..")) or not name.lower().endswith(STATIC_SUFFIXES):
        return None
    found = finders.find(name)
    return found if isinstance(found, str) and os.path.isfile(found) else None


def make_url_fetcher():
    """A WeasyPrint fetcher for data: URLs and the app's own static files; it refuses
    everything else (file://, http(s) to anywhere, ftp) and records what it was asked for
    (`requested`)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def __init__(self):
            super().__init__(timeout=2, allowed_protocols=("data",), allow_redirects=False)
            self.requested: list[str] = []

        def fetch(self, url, headers=None):
            self.requested.append(url)
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            path = static_file_path(url)
            if path is None:
                raise RefusedURL(f"refused to fetch {url[:100]!r} while rendering a PDF")
            with open(path, "rb") as handle:
                body = handle.read()
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return StaticOnlyFetcher()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    from vom.textsafety import without_bidi_controls

    # Names and free text with a right-to-left override would print reversed.
    html = without_bidi_controls(html)
    return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=make_url_fetcher()).write_pdf()
