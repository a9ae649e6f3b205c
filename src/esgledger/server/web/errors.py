"""The error page: every failure of a page request (not ``/api/*``) renders as a page in the
user's language — the problem's title, its detail, the row-level issues of an import as a
table — never exception text of an unexpected error, never a stack trace. A page asked for
without a session is a redirect to the sign-in page instead."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from esgledger.server.web.pages import PageContext, page_lang, render

__all__ = ["ErrorPage", "IssueRow", "error_page", "safe_next"]


@dataclass(frozen=True, slots=True)
class IssueRow:
    """One row-level problem of an import, as the CLI's ``--report`` CSV gives it."""

    file: str | None
    row: int | None
    column: str | None
    value: str | None
    problem: str
    fix: str | None


@dataclass(frozen=True, slots=True)
class ErrorPage(PageContext):
    """The error page: HTTP ``status``, the problem's ``title`` and ``detail`` in the user's
    language, the import ``issues`` if any, and the request id to quote."""

    status: int
    title: str
    detail: str | None
    issues: tuple[IssueRow, ...]
    request_id: str | None


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (``/...`` but not ``//host``), else ``default``:
    a sign-in or language link can never send the user elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def error_page(
    request: Request,
    status: int,
    titles: tuple[str, str],
    detail: Callable[[bool], str | None],
    issues: list[dict[str, Any]] | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The answer to a failed page request: the error page in the page's language (``titles``
    is (English, Chinese); ``detail(zh)`` the detail), or for 401 a redirect to sign in."""
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        location = "/sign-in?next=" + quote(safe_next(target), safe="/")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)
    zh = page_lang(request) == "zh-CN"
    page = ErrorPage(
        status=status,
        title=titles[1] if zh else titles[0],
        detail=detail(zh),
        issues=tuple(
            IssueRow(
                file=i.get("file"),
                row=i.get("row"),
                column=i.get("column"),
                value=i.get("value"),
                problem=i.get("problem") or "",
                fix=i.get("fix"),
            )
            for i in issues or ()
        ),
        request_id=getattr(request.state, "request_id", None),
    )
    kept = {k: v for k, v in (headers or {}).items() if k.lower() in ("retry-after", "connection")}
    response: HTMLResponse = render(request, "error.html", page, status_code=status, headers=kept)
    return response
