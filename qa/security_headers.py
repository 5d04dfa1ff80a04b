"""Response headers that keep what a chat message can do to the page it is shown in.

The chat shows the user's own question as Gradio renders it (Markdown and sanitised HTML), so
``![x](https://tracker.example/p.png)`` or an ``<img>`` in a question made the browser fetch another
site's image on every reload, and a ``<form>`` could post elsewhere. Document text is always
escaped (:mod:`qa.render`); these headers are the second line for everything else:

* ``Content-Security-Policy``: images and media only from this server (and ``data:``/``blob:``),
  forms only to it, no plugins, no ``<base>`` elsewhere. Scripts and styles are left as Gradio
  needs them (it inlines both);
* ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``.
"""

from __future__ import annotations

from typing import Any

POLICY = ("img-src 'self' data: blob:; media-src 'self' data: blob:; form-action 'self'; "
          "object-src 'none'; base-uri 'self'")
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Add :data:`HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: Any, exempt: tuple[str, ...] = ("/api/docs",)):
        self.app = app
        self.exempt = exempt  # FastAPI's own API page, which loads its favicon and Swagger UI from elsewhere

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
