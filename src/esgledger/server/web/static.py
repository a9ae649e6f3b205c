"""The pages' static files (``web/static``): CSS, the one script of the pages and the
vendored front-end libraries (``static/vendor``, each pinned with its version, licence and
sha256 in ``static/vendor/VENDORED.csv``, checked by a test). Served with a year's cache:
every URL carries the file's content hash (:func:`esgledger.server.web.pages.static_url`)."""

from __future__ import annotations

from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

__all__ = ["StaticAssets"]


class StaticAssets(StaticFiles):
    """``StaticFiles`` of the package folder, cacheable (content-hashed URLs)."""

    def __init__(self) -> None:
        super().__init__(packages=[("esgledger.server.web", "static")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def cached(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
                message["headers"] = headers
            await send(message)

        await super().__call__(scope, receive, cached)
