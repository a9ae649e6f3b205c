"""Rendering a page: one Jinja2 environment, the chrome every page shares, and
:func:`render`, which answers a full page or, to htmx, one named block of it.

A page route reads the request, calls one service, builds its page context — a documented
frozen dataclass (a test renders every page and checks the context against its declaration)
— and returns ``render(request, "area/page.html", context)``. Templates print words only
through ``t('key')`` (the one strings table, :mod:`esgledger.i18n`), numbers through
``num()``, dates through ``date()`` and bilingual :class:`~esgledger.i18n.Text` through
``tx()``; everything is autoescaped.

htmx: one template per page with named blocks. A request with ``HX-Request: true`` (and not a
history restore) gets the block the route names (``content`` unless told), the rest the whole
page; every answer says ``Vary: HX-Request``. A page with an API twin advertises it with
``Link: <...>; rel="alternate"; type="application/json"``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from esgledger import __version__
from esgledger.access import Principal
from esgledger.access.policy import allowed
from esgledger.i18n import LANGS, Lang, Text, format_date, format_number, ui
from esgledger.server.problems import language

__all__ = [
    "LANG_COOKIE",
    "NAV",
    "Chrome",
    "NavItem",
    "PageContext",
    "chrome_for",
    "environment",
    "page_lang",
    "render",
    "static_url",
]

#: The cookie that keeps a user's language choice (``en`` or ``zh-CN``).
LANG_COOKIE = "esgledger_lang"


class PageContext:
    """Marker base of page contexts: subclass it as ``@dataclass(frozen=True, slots=True)``
    and document each field; :func:`render` refuses anything else."""


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the navigation: its string key, where it goes, the action it needs."""

    key: str
    href: str
    action: str


#: The navigation, in order; an entry shows only to a role allowed its action.
NAV: tuple[NavItem, ...] = (
    NavItem("nav.home", "/", "inventory:read"),
    NavItem("nav.tasks", "/tasks", "task:submit"),
    NavItem("nav.review", "/review", "task:review"),
    NavItem("nav.campaigns", "/campaigns", "campaign:read"),
    NavItem("nav.inventory", "/inventory", "inventory:read"),
    NavItem("nav.factors", "/factors", "inventory:read"),
    NavItem("nav.green", "/green-power", "inventory:read"),
    NavItem("nav.targets", "/targets", "inventory:read"),
    NavItem("nav.energy", "/energy", "energy:read"),
    NavItem("nav.inclusion", "/inclusion", "inclusion:read"),
    NavItem("nav.reports", "/reports", "inventory:read"),
    NavItem("nav.audit", "/audit", "audit:read"),
    NavItem("nav.admin", "/admin/users", "user:read"),
)


@dataclass(frozen=True, slots=True)
class Chrome:
    """What surrounds every page: language, the signed-in user (``None`` on the sign-in and
    error pages before sign-in), the navigation that user may follow, the CSRF token of the
    session (rendered into every form and into htmx's request headers) and the current
    path (to mark the current navigation entry and to come back after a language switch)."""

    lang: Lang
    path: str
    username: str | None = None
    role: str | None = None
    scope: str | None = None
    nav: tuple[NavItem, ...] = ()
    csrf_token: str | None = None

    @property
    def other_lang(self) -> Lang:
        return "en" if self.lang == "zh-CN" else "zh-CN"


def page_lang(request: Request) -> Lang:
    """The language of a page: the user's choice (the ``esgledger_lang`` cookie), else the
    browser's ``Accept-Language``."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return chosen
    return "zh-CN" if language(request) == "zh-CN" else "en"


def chrome_for(request: Request, principal: Principal | None = None) -> Chrome:
    """The :class:`Chrome` of ``request`` (the principal defaults to the one the page
    dependency signed in)."""
    principal = principal or getattr(request.state, "principal", None)
    lang = page_lang(request)
    path = request.url.path
    if principal is None:
        return Chrome(lang=lang, path=path)
    nav = tuple(item for item in NAV if allowed(principal, item.action) is True)
    return Chrome(
        lang=lang,
        path=path,
        username=principal.username,
        role=principal.role,
        scope=principal.scope_entity,
        nav=nav,
        csrf_token=getattr(request.state, "csrf_token", None),
    )


@functools.cache
def _static_digest(name: str) -> str:
    data = resources.files("esgledger.server.web").joinpath("static", name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: cacheable for a year, new when the file changes."""
    return f"/static/{quote(name)}?v={_static_digest(name)}"


def _json_script(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">`` (no ``</script>``,
    no HTML comment or CDATA opener can close or confuse the element)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _query(base: str, **params: Any) -> str:
    """``base`` with the non-empty ``params`` as its query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(kept)}" if kept else base


@functools.cache
def environment() -> Environment:
    """The Jinja2 environment of the pages: package templates, autoescape on, undefined
    names are errors."""
    env = Environment(
        loader=PackageLoader("esgledger.server.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        static_url=static_url,
        json_script=_json_script,
        query=_query,
        version=__version__,
    )
    return env


def _helpers(lang: Lang) -> dict[str, Any]:
    def t(key: str, **fields: Any) -> str:
        return ui(key, lang, **fields)

    def num(value: Any, decimals: int | None = None) -> str:
        return format_number(value, lang, decimals)

    def date(value: Any) -> str:
        return format_date(value, lang)

    def tx(value: Text | str | None) -> str:
        if value is None:
            return ""
        return value.get(lang) if isinstance(value, Text) else value

    return {"t": t, "num": num, "date": date, "tx": tx, "lang": lang}


def _check_context(page: object) -> None:
    if not (
        isinstance(page, PageContext)
        and dataclasses.is_dataclass(page)
        and type(page).__dataclass_params__.frozen
    ):
        raise TypeError(
            f"a page context must be a frozen dataclass subclassing PageContext, "
            f"not {type(page).__name__}"
        )


def render(
    request: Request,
    template: str,
    page: PageContext,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    block: str = "content",
    alternate: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` over ``page`` (its context) — or, to an htmx request, its
    ``block`` alone."""
    _check_context(page)
    chrome = chrome_for(request, principal)
    recorder = getattr(request.app.state, "page_contexts", None)
    if recorder is not None:  # tests: every rendered context, checked against its type
        recorder.append((template, page))
    context = {"page": page, "chrome": chrome, **_helpers(chrome.lang)}
    compiled = environment().get_template(template)
    partial = (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
    if partial:
        # A block rendered alone does not run the top-level imports of its templates: give
        # it the shared macros (``m``) as base.html imports them, with the page's context.
        macros = environment().get_template("macros.html").make_module(vars=context)
        render_block = compiled.blocks[block]
        body = "".join(render_block(compiled.new_context({**context, "m": macros})))
    else:
        body = compiled.render(context)
    answer_headers = {
        "Vary": "HX-Request, Accept-Language, Cookie",
        "Content-Language": chrome.lang,
    }
    if alternate is not None:
        answer_headers["Link"] = f'<{alternate}>; rel="alternate"; type="application/json"'
    answer_headers.update(headers or {})
    return HTMLResponse(body, status_code=status_code, headers=answer_headers)
