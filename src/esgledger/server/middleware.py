"""Pure ASGI middleware: request id and one JSON log line per request, security headers, and
the request-body size limit (counted as the body streams, so a chunked upload cannot pass it).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import deque
from threading import Lock
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esgledger.server.problems import problem_response

__all__ = ["JsonFormatter", "RateLimiter", "RequestMiddleware"]

log = logging.getLogger("esgledger.server.access")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the ``extra`` fields."""

    _SKIP = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message",
        "color_message",  # Uvicorn's ANSI-coloured copy of msg
    }

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in self._SKIP})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _BodyTooLargeError(Exception):
    pass


class RequestMiddleware:
    """Request id (``X-Request-ID``), access log, security headers, body size limit."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_seen: list[int] = []
        headers = dict(scope.get("headers") or [])
        received = 0
        exceeded = False

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                raw.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                raw.append((b"x-request-id", request_id.encode()))
                message["headers"] = raw
            await send(message)

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    exceeded = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            # A body that grew past the limit while streaming (chunked): whatever the app
            # answers about the broken read (FastAPI says 400), the client gets the 413.
            if not exceeded:
                await send_with_headers(message)
            elif message["type"] == "http.response.start" and not status_seen:
                await self._too_large(scope, receive, send_with_headers)

        declared = headers.get(b"content-length")
        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                await self._too_large(scope, receive, send_with_headers)
                return
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLargeError:
            if not status_seen:
                await self._too_large(scope, receive, send_with_headers)
        except Exception:
            # No exception text and no stack trace for the client: a problem document with
            # the request id; the traceback goes to the log.
            log.exception("unhandled error", extra={"request_id": request_id})
            if status_seen:
                raise
            response = problem_response(
                Request(scope),
                500,
                "internal",
                "Internal error",
                "内部错误",
                "the server failed; quote the request_id to an administrator",
            )
            await response(scope, receive, send_with_headers)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status_seen[0] if status_seen else 500,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            413,
            "too-large",
            "Request too large",
            "请求过大",
            f"the request body exceeds {self.max_body} bytes",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class RateLimiter:
    """At most ``limit`` events per key in a sliding ``window`` seconds (in this process)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = Lock()

    def hit(self, key: str) -> bool:
        """Record one event; False when the key is over its limit."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) > 100_000:
                self._events.clear()
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True
