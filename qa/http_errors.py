"""The JSON errors of the HTTP routes: one shape per API, whatever refused the request.

The REST routes answer ``{"error": message}``; the OpenAI-compatible routes (``/v1/``) answer OpenAI's
``{"error": {"message", "type", "param", "code"}}``, so an OpenAI client shows the message. That holds
for what no route handles too: a wrong method or an unknown path under ``/api/`` or ``/v1/`` (which
the chat mounted at ``/`` would otherwise answer with its own 404), and a request without the
server's credentials.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request  # at module level: FastAPI resolves the fallback's annotation here

#: methods a fallback route answers (every one a client may send to a wrong path)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _api(path: str) -> str:
    """"api", "v1" or "" for the chat's pages ("//v1/models" is /v1 too)."""
    head = path.lstrip("/").split("/", 1)[0]
    return head if head in ("api", "v1") else ""


def error_body(path: str, message: str, kind: str, code: str) -> dict[str, Any]:
    """The JSON error of a route: OpenAI's shape on /v1, ``{"error": message}`` elsewhere."""
    if _api(path) == "v1":
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return {"error": message}


def unauthorized(path: str, realm: str) -> Any:
    """401 for a request without the server's credentials: JSON for the APIs, text for the chat's pages."""
    from starlette.responses import JSONResponse, PlainTextResponse

    headers = {"WWW-Authenticate": f'Basic realm="{realm}", charset="UTF-8"'}
    if _api(path):
        message = "authentication required: send the server's user and password (HTTP Basic) or a Bearer token"
        return JSONResponse(error_body(path, message, "invalid_request_error", "invalid_api_key"), status_code=401, headers=headers)
    return PlainTextResponse("Authentication required.", status_code=401, headers=headers)


def add_fallback_routes(app: Any) -> None:
    """404 / 405 in the API's own shape for what no route under ``/api/`` or ``/v1/`` handles
    (added after every API route, before the chat is mounted at ``/``)."""
    from starlette.responses import JSONResponse
    from starlette.routing import Match, Mount

    async def fallback(request: Request) -> Any:
        path, method = request.url.path, request.method
        routes = [r for r in app.router.routes if getattr(r, "endpoint", None) is not fallback and not isinstance(r, Mount)]
        allowed = [m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)]
        if allowed:
            body = error_body(path, f"{method} is not allowed on {path}: use {', '.join(allowed)}", "invalid_request_error",
                              "method_not_allowed")
            return JSONResponse(body, status_code=405, headers={"Allow": ", ".join(allowed)})
        body = error_body(path, f"no route {method} {path} (the API is described at /api/docs)", "invalid_request_error",
                          "not_found")
        return JSONResponse(body, status_code=404)

    for prefix in ("/api/{rest:path}", "/v1/{rest:path}"):
        app.add_api_route(prefix, fallback, methods=_METHODS, include_in_schema=False)
