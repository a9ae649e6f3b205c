"""RFC 9457 problem details: one table from esgledger's error classes to HTTP status and
problem type, bilingual titles chosen by ``Accept-Language``, and the one handler that renders
every failure. Domain errors carry no HTTP; this module is the only place that knows both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from esgledger import errors
from esgledger.errors import shown

__all__ = [
    "PROBLEM_TYPES",
    "Problem",
    "install_handlers",
    "language",
    "problem_for",
    "problem_media_types",
    "problem_response",
    "problem_responses",
]

log = logging.getLogger("esgledger.server")

_REFERENCE = ("missing-reference", "Missing reference data", "缺少参考数据")
_INPUT = ("invalid-input", "Invalid input", "输入无效")

#: Error class → (status, type slug, English title, Chinese title). Most specific first (the
#: first ``isinstance`` match wins). Every class of :mod:`esgledger.errors` has its own row (a
#: test walks the subclasses and fails on one missing here or from the CLI's exit codes);
#: classes defined elsewhere are covered by their nearest listed ancestor.
PROBLEM_TYPES: tuple[tuple[type[BaseException], int, str, str, str], ...] = (
    (errors.AuthenticationError, 401, "unauthenticated", "Not signed in", "未登录或凭据无效"),
    (errors.AccessDeniedError, 403, "forbidden", "Not allowed", "无权执行此操作"),
    (errors.NotFoundError, 404, "not-found", "Not found", "未找到"),
    (errors.ConflictError, 409, "conflict", "Conflict", "状态冲突"),
    (
        errors.LedgerError,
        409,
        "ledger-refused",
        "Ledger refused the transaction",
        "账本拒绝了该交易",
    ),
    (errors.WorkspaceBusyError, 503, "busy", "Workspace busy", "工作区繁忙"),
    (errors.WorkspaceError, 503, "unavailable", "Workspace unavailable", "工作区不可用"),
    (errors.TooManyRequestsError, 429, "too-many-requests", "Too many requests", "请求过于频繁"),
    (errors.InsufficientDataError, 422, *_INPUT),
    (errors.InputError, 422, *_INPUT),
    (errors.UnitError, 422, *_INPUT),
    (errors.UnknownActivityError, 422, *_INPUT),
    (errors.StrictFallbackError, 422, *_REFERENCE),
    (errors.FactorNotFoundError, 422, *_REFERENCE),
    (errors.UnknownGasError, 422, *_REFERENCE),
    (errors.FxRateMissingError, 422, *_REFERENCE),
    (errors.PriceIndexMissingError, 422, *_REFERENCE),
    (
        errors.EsgledgerError,
        422,
        "invalid-request",
        "Request cannot be processed",
        "无法处理该请求",
    ),
)

#: Problem types whose detail is never the error's own text (it may name server paths): the
#: client gets the fixed text of :data:`_FIXED_DETAIL`, the log gets the rest.
_FIXED_DETAIL: dict[str, str] = {
    "unavailable": "the workspace cannot be used now; an administrator can see why in the log",
}

_HTTP_TITLES: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "Bad request", "请求无效"),
    401: ("unauthenticated", "Not signed in", "未登录或凭据无效"),
    403: ("forbidden", "Not allowed", "无权执行此操作"),
    404: ("not-found", "Not found", "未找到"),
    405: ("method-not-allowed", "Method not allowed", "不允许的请求方法"),
    409: ("conflict", "Conflict", "状态冲突"),
    413: ("too-large", "Request too large", "请求过大"),
    415: ("unsupported-media-type", "Unsupported media type", "不支持的媒体类型"),
    422: ("invalid-request", "Invalid request", "请求参数无效"),
    429: ("too-many-requests", "Too many requests", "请求过于频繁"),
    500: ("internal", "Internal error", "内部错误"),
    503: ("busy", "Service unavailable", "服务暂不可用"),
}

#: The Chinese lead sentence of a problem's ``detail`` when the client prefers Chinese; the
#: specific (English) message follows it, unless the error carries its own Chinese text
#: (an ``zh`` attribute, see :func:`esgledger.errors.with_zh`).
_DETAIL_ZH: dict[str, str] = {
    "unauthenticated": "请登录（POST /api/v1/session）或发送 Authorization: Bearer 令牌。",
    "forbidden": "当前角色或数据范围不允许此操作。",
    "not-found": "所请求的对象不存在或不在您的数据范围内。",
    "conflict": "对象当前的状态不允许此更改。",
    "busy": "工作区正被其他操作占用，请稍后重试。",
    "invalid-input": "输入有误，请按 issues 中逐行列出的问题修改后重新提交。",
    "invalid-request": "请求无法处理，请检查参数。",
    "bad-request": "请求无效。",
    "method-not-allowed": "该地址不支持此请求方法。",
    "internal": "服务器出错；请求编号见 request_id，可交给管理员查询日志。",
    "too-many-requests": "请稍后再试。",
    "too-large": "上传内容超过服务器允许的大小。",
    "unavailable": "工作区暂不可用；管理员可在日志中查看原因。",
    "unsupported-media-type": "不支持的内容类型。",
}


def _detail(slug: str, detail: str | None, zh: bool, own_zh: str | None) -> str | None:
    if not zh:
        return detail
    if own_zh:
        return own_zh
    lead = _DETAIL_ZH.get(slug)
    if lead is None:
        return detail
    return (
        lead if not detail or slug in ("unauthenticated", "internal") else f"{lead}详情：{detail}"
    )


class IssueOut(BaseModel):
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    problem: str
    fix: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = Field(description="URI reference naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    issues: list[IssueOut] | None = Field(
        None, description="row-level import issues, as the CLI's --report CSV gives them"
    )


def language(request: Request) -> str:
    """``zh-CN`` when the client prefers Chinese (``Accept-Language``), else ``en``."""
    header = request.headers.get("accept-language", "")
    best, best_q = "en", -1.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = "zh-CN" if tag.lower().startswith("zh") else "en"
        if q > best_q and q > 0:  # q=0: "not acceptable"
            best, best_q = lang, q
    return best


def problem_for(exc: BaseException) -> tuple[int, str, str, str]:
    for cls, status, slug, en, zh in PROBLEM_TYPES:
        if isinstance(exc, cls):
            return status, slug, en, zh
    return 500, "internal", "Internal error", "内部错误"


def _issues(exc: BaseException) -> list[dict[str, Any]] | None:
    if not isinstance(exc, errors.InputError) or not exc.issues:
        return None
    return [
        {
            "file": issue.file,
            "row": issue.row,
            "column": issue.column,
            "value": None if issue.value is None else shown(issue.value),
            "problem": shown(issue.problem, 1000),
            "fix": shown(issue.fix, 1000) or None,
        }
        for issue in exc.issues[:1000]
    ]


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title_en: str,
    title_zh: str,
    detail: str | None,
    *,
    issues: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    own_zh: str | None = None,
) -> Response:
    pages = _page_errors(request)
    if pages is not None:
        return pages(  # type: ignore[no-any-return]
            request,
            status,
            (title_en, title_zh),
            lambda zh: _detail(slug, detail, zh, own_zh),
            issues,
            headers,
        )
    zh = language(request) == "zh-CN"
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title_zh if zh else title_en,
        "status": status,
        "detail": _detail(slug, detail, zh, own_zh),
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if issues is not None:
        body["issues"] = issues
    return JSONResponse(
        body,
        status_code=status,
        media_type="application/problem+json",
        headers={"Content-Language": "zh-CN" if zh else "en", **(headers or {})},
    )


#: Paths that are never pages: their failures are problem documents even when the pages are
#: installed.
_NOT_PAGES = ("/api/", "/openapi", "/healthz", "/readyz", "/docs", "/static/")


def _page_errors(request: Request) -> Any:
    """The pages' error renderer (``app.state.page_errors``, set by ``install_web``) when
    ``request`` asked for a page, else ``None``."""
    if request.url.path.startswith(_NOT_PAGES):
        return None
    try:
        return getattr(request.app.state, "page_errors", None)
    except (AttributeError, KeyError, AssertionError):
        return None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each status documented as a problem document."""
    return {
        status: {
            "model": Problem,
            "description": _HTTP_TITLES.get(status, ("", f"HTTP {status}", ""))[1],
            "content": {"application/problem+json": {}},
        }
        for status in sorted({401, *statuses})
    }


PROBLEM_MEDIA_TYPE = "application/problem+json"
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """Document every error response as the handlers send it: the ``Problem`` schema under
    ``application/problem+json``. FastAPI documents ``responses=problem_responses(...)``
    under ``application/json`` and adds its own 422 ``HTTPValidationError``, which this API
    never sends (request validation answers a problem with ``issues``). An operation with a
    request body also documents 400, FastAPI's answer to a body it cannot parse (not UTF-8,
    not JSON, a broken form). In place; returns ``document``."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation and "400" not in responses:
                responses["400"] = {
                    "description": _HTTP_TITLES[400][1],
                    "content": {PROBLEM_MEDIA_TYPE: problem},
                }
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if not content or not str(status).isdigit() or int(status) < 400:
                    continue
                plain = content.get("application/json", {})
                if PROBLEM_MEDIA_TYPE in content or _VALIDATION_REF in str(plain):
                    response["content"] = {PROBLEM_MEDIA_TYPE: problem}
                if _VALIDATION_REF in str(plain):
                    response["description"] = _HTTP_TITLES[422][1]
    schemas = document.get("components", {}).get("schemas", {})
    if "Problem" not in schemas:
        _add_problem_schema(schemas)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


def _add_problem_schema(schemas: dict[str, Any]) -> None:
    found = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(found.pop("$defs", {}))
    schemas["Problem"] = found


def _http_problem(request: Request, status: int, detail: str | None, headers: Any) -> Response:
    slug, en, zh = _HTTP_TITLES.get(status, ("http-error", f"HTTP {status}", f"HTTP {status}"))
    return problem_response(request, status, slug, en, zh, detail, headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Every failure becomes a problem document; no exception text of an unexpected error and
    no stack trace ever reaches a client (they go to the log with the request id)."""

    @app.exception_handler(errors.EsgledgerError)
    async def _domain(request: Request, exc: errors.EsgledgerError) -> Response:
        status, slug, en, zh = problem_for(exc)
        headers = {"WWW-Authenticate": 'Bearer realm="esgledger"'} if status == 401 else None
        detail = _FIXED_DETAIL.get(slug)
        if detail is not None:
            log.warning(
                "%s: %s",
                type(exc).__name__,
                exc,
                extra={"request_id": getattr(request.state, "request_id", None)},
            )
        return problem_response(
            request,
            status,
            slug,
            en,
            zh,
            str(exc) if detail is None else detail,
            issues=_issues(exc),
            headers=headers,
            own_zh=getattr(exc, "zh", None) if detail is None else None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        issues = [
            {
                "column": ".".join(str(p) for p in err.get("loc", ())),
                "problem": str(err.get("msg", "")),
                "value": None,
            }
            for err in exc.errors()[:100]
        ]
        return problem_response(
            request,
            422,
            "invalid-request",
            "Invalid request",
            "请求参数无效",
            "the request does not match the API's schema; see issues",
            issues=issues,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return _http_problem(request, exc.status_code, detail, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception(
            "unhandled error", extra={"request_id": getattr(request.state, "request_id", None)}
        )
        return _http_problem(
            request, 500, "the server failed; quote the request_id to an administrator", None
        )
