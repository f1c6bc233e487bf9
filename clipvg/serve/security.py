"""What keeps ``clipvg serve`` safe on an open port: the access token and host/origin checks (one
ASGI middleware in front of every route), upload size limits, recognising files by their content,
refusing SVG entity declarations before any XML parser expands them, and safe file names."""
from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
import xml.parsers.expat
import zlib
from http.cookies import SimpleCookie
from typing import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_PARAM = "token"


class UploadError(Exception):
    """An upload that is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only reaches this machine."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """The token a server on ``host`` requires and whether it was generated: the given one, else a
    fresh random one on any host but loopback (like Jupyter's), else None (no token on 127.0.0.1)."""
    if token is not None:
        if not token.strip():
            raise ValueError("--token must not be empty")
        return token, False
    if is_loopback(host):
        return None, False
    return secrets.token_hex(24), True


def cookie_name(port: int | None) -> str:
    """The token cookie's name; cookies ignore ports, so the port is part of the name."""
    return f"clipvg_token_{port or 0}"


def _host_name(host_header: str) -> str:
    """``'127.0.0.1:8765'`` -> ``'127.0.0.1'``; ``'[::1]:80'`` -> ``'[::1]'``."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class AccessGuard:
    """ASGI middleware in front of the whole app (pages, static files, API, event streams).

    With a ``token``: a request must carry it as ``?token=``, ``Authorization: Bearer|token``, or the
    cookie set on the first visit; none gives 401, a wrong one 403. A page opened with ``?token=`` gets
    the cookie (HttpOnly, SameSite=Strict) and is redirected to its address without the token.
    Without a token (loopback only): requests must name a loopback host in ``Host`` (a DNS-rebinding
    guard). Always: a state-changing request whose ``Origin`` is another site's gets 403, and every
    answer carries a strict Content-Security-Policy and ``nosniff``.
    """

    def __init__(self, app, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.token is None and not is_loopback(_host_name(host)):
            await _deny(send, 403, f"this server only answers requests for localhost, not {host!r} "
                                   "(start it with --host and a --token to serve other names)")
            return
        origin = headers.get("origin")
        if scope["method"] in UNSAFE_METHODS and origin and origin != "null" and urlsplit(origin).netloc != host:
            await _deny(send, 403, "cross-site request refused: the Origin does not match this server")
            return
        if origin == "null" and scope["method"] in UNSAFE_METHODS:
            await _deny(send, 403, "cross-site request refused: opaque Origin")
            return
        if self.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            port = (scope.get("server") or (None, None))[1]
            given, from_query = self._given(headers, query, port)
            if given is None:
                await _deny(send, 401, "this server needs its access token: open the URL with ?token=... that "
                                       "`clipvg serve` printed, or send 'Authorization: Bearer TOKEN'")
                return
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                await _deny(send, 403, "wrong access token")
                return
            if from_query and scope["method"] == "GET" and not scope["path"].startswith("/api/"):
                rest = urlencode([(k, v) for k, v in parse_qsl(scope["query_string"].decode("latin-1"))
                                  if k != TOKEN_PARAM])
                location = scope["path"] + (f"?{rest}" if rest else "")
                cookie = (f"{cookie_name(port)}={self.token}; Path=/; HttpOnly; SameSite=Strict")
                await _send(send, 303, b"", "text/plain", [(b"location", location.encode("latin-1")),
                                                          (b"set-cookie", cookie.encode("latin-1"))])
                return
        await self.app(scope, receive, _with_security_headers(send))

    def _given(self, headers: dict, query: dict, port: int | None) -> tuple[str | None, bool]:
        if TOKEN_PARAM in query:
            return query[TOKEN_PARAM], True
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip(), False
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is treated as absent
            return None, False
        morsel = cookies.get(cookie_name(port))
        return (morsel.value, False) if morsel is not None else (None, False)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode())]


def _with_security_headers(send: Callable[[dict], Awaitable[None]]):
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            message = {**message, "headers": list(message.get("headers", []))
                       + [(k, v) for k, v in SECURITY_HEADERS if k not in present]}
        await send(message)
    return wrapped


async def _send(send, status: int, body: bytes, content_type: str, extra=()) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
               *SECURITY_HEADERS, *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _deny(send, status: int, message: str) -> None:
    extra = [(b"www-authenticate", b'Bearer realm="clipvg"')] if status == 401 else []
    await _send(send, status, json.dumps({"error": message}).encode(), "application/json", extra)


# --- uploads ---------------------------------------------------------------------------------------

def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def sniff(data: bytes) -> str | None:
    """The kind of an upload by its content: ``png``, ``jpeg``, ``webp``, ``svg``, ``svgz`` or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"\x1f\x8b":
        return "svgz"
    head = data[:65536].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<") and re.search(rb"<(?:[A-Za-z_][\w.-]*:)?svg[\s>/]", head):
        return "svg"
    return None


def gunzip_limited(data: bytes, limit: int) -> bytes:
    """Decompress an .svgz upload, refusing more than ``limit`` bytes of output (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise UploadError(400, f"the file looks gzip-compressed but cannot be decompressed ({error})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise UploadError(413, f"the compressed SVG expands to more than {megabytes(limit)}; "
                               "this server's upload limit applies to the uncompressed size")
    return out


class _Refused(Exception):
    pass


def check_svg_markup(data: bytes) -> None:
    """Refuse SVG markup that declares entities (internal ones can expand exponentially, external ones
    name files or URLs) or is not well-formed, before clipvg's reader sees it. Expat reports a
    declaration as soon as it reads it, so an entity-expansion bomb is refused without expanding."""
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args) -> None:
        raise _Refused

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(data, True)
    except _Refused:
        raise UploadError(400, "SVG files that declare XML entities (<!ENTITY ...>) are refused: they can "
                               "expand without bound or point at local files and URLs") from None
    except xml.parsers.expat.ExpatError as error:
        raise UploadError(400, f"the SVG is not well-formed XML ({error})") from None


def safe_stem(name: str, default: str = "picture") -> str:
    """A file-name stem made from an uploaded name, for Content-Disposition only: ASCII letters,
    digits, ``-`` and ``_``, at most 60 characters, no directory part."""
    stem = re.split(r"[\\/]", name or "")[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:60]
    return stem or default
