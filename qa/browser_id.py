"""Which browser a request comes from: a random id in a cookie, shared by all its tabs.

The web chat keeps conversations in the browser's local storage, one value for all tabs of a
browser; each tab saves its whole copy. To merge what another tab saved meanwhile
(:class:`qa.web_state.BrowserStores`), the server must know that two tabs are one browser: the page
sets ``qa_browser`` (128 random bits, HttpOnly, SameSite=Strict) on its first load, and every later
request of every tab sends it back. Without the cookie (a client that drops cookies), the id kept in
the stored conversations stands in.
"""

from __future__ import annotations

import re
import secrets
from http.cookies import SimpleCookie
from typing import Any

COOKIE = "qa_browser"
_ID = re.compile(r"[0-9a-f]{32}")
#: a year: the conversations live as long as the browser keeps its storage
MAX_AGE_S = 365 * 24 * 3600


def browser_of(request: Any) -> str | None:
    """The browser id a request carries (a ``gr.Request`` or a Starlette request), or None."""
    headers = getattr(request, "headers", None)
    raw = headers.get("cookie") if headers is not None else None
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except Exception:  # a malformed Cookie header is the client's business: no id
        return None
    value = jar[COOKIE].value if COOKIE in jar else ""
    return value if _ID.fullmatch(value) else None


class BrowserCookieMiddleware:
    """Set ``qa_browser`` on a page load (a GET of the page itself) that does not carry it."""

    def __init__(self, app: Any, page_paths: tuple[str, ...] = ("/",)):
        self.app = app
        self.page_paths = page_paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET" or scope.get("path") not in self.page_paths:
            await self.app(scope, receive, send)
            return
        cookie = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
        if browser_of(_Headers(cookie)) is not None:
            await self.app(scope, receive, send)
            return
        value = (f"{COOKIE}={secrets.token_hex(16)}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Strict"
                 ).encode("latin-1")

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class _Headers:
    def __init__(self, cookie: str):
        self.headers = {"cookie": cookie}
