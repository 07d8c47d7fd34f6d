"""One request and one answer as the endpoint's handlers see them: the answer, the query, the
cookies, a posted form (bounded), whether a POST comes from the page's own origin, and the
cookies set in reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl
from wsgiref.types import WSGIEnvironment

FORM_LIMIT = 16 * 1024
"""Bytes of a posted form: a reason, an owner, a date and two tokens need far less."""
FORM_TYPE = "application/x-www-form-urlencoded"
HTML = "text/html; charset=utf-8"


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class BadRequest(ValueError):
    """A request that cannot be read; the message is fit to show."""


def see_other(location: str, *headers: tuple[str, str]) -> Response:
    """303: go (with GET) to ``location``, one of the page's own paths or the authority."""
    return Response(303, b"", headers=[("Location", location), *headers])


def query(environ: WSGIEnvironment) -> dict[str, str]:
    return dict(parse_qsl(environ.get("QUERY_STRING") or "", keep_blank_values=True))


def cookie(environ: WSGIEnvironment, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE") or "")
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def form(environ: WSGIEnvironment) -> dict[str, str]:
    """The posted form; :class:`BadRequest` when it is not one or too large."""
    kind = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise BadRequest(f"expected a form ({FORM_TYPE})")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("the request's length is not a number") from None
    if length > FORM_LIMIT:
        raise BadRequest("the form is too large")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the form is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def same_origin(environ: WSGIEnvironment, origin: str) -> bool:
    """Whether a POST comes from a page of ``origin`` (``[http] public_url``): its ``Origin``
    header, else its ``Referer``, must name it; a request that names neither is refused, and
    so is one a browser marks ``Sec-Fetch-Site: cross-site``."""
    if (environ.get("HTTP_SEC_FETCH_SITE") or "").lower() == "cross-site":
        return False
    said = environ.get("HTTP_ORIGIN")
    if said is not None:
        return bool(str(said).rstrip("/") == origin)
    referer = str(environ.get("HTTP_REFERER") or "")
    return referer == origin or referer.startswith(origin + "/")


def set_cookie(
    name: str, value: str, *, path: str, max_age: int, secure: bool, same_site: str = "Lax"
) -> tuple[str, str]:
    """A ``Set-Cookie`` header: HttpOnly always, Secure over https; ``max_age`` 0 removes it."""
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}", "HttpOnly"]
    parts.append(f"SameSite={same_site}")
    if secure:
        parts.append("Secure")
    return ("Set-Cookie", "; ".join(parts))


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this page (never another site's address), else
    ``default``: where to go back to after signing in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in value):
        return default
    return value
