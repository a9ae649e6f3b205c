"""The contract of every page: the context each page renders with is what its class declares,
each page route declares exactly one action, and each role gets each page it may see and the
403 error page (in its language) for each it may not.

Pages come from the crawl (``tests/_page_crawl.py``); ``app.state.page_contexts`` makes
:func:`esgledger.server.web.pages.render` record every ``(template, context)`` it renders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from _page_crawl import PUBLIC_PAGES, SiteCrawl, crawl_site, get_page_routes
from _web_support import DemoCopy, page_client

_SCALARS: tuple[type, ...] = (str, int, float, bool, decimal.Decimal, dt.date, dt.datetime)


@pytest.fixture(scope="module")
def site(web_demo: DemoCopy) -> SiteCrawl:
    return crawl_site(web_demo)


def _json_like(value: Any, where: str) -> list[str]:
    """``Any`` in a context still means plain data: JSON-like values (API views)."""
    if value is None or isinstance(value, str | int | float | bool):
        return []
    if isinstance(value, list | tuple):
        return [p for i, item in enumerate(value) for p in _json_like(item, f"{where}[{i}]")]
    if isinstance(value, dict):
        problems = [f"{where}: key {k!r} is not a string" for k in value if not isinstance(k, str)]
        return problems + [p for k, v in value.items() for p in _json_like(v, f"{where}.{k}")]
    return [f"{where}: {type(value).__name__} is not plain data"]


def check_value(value: Any, annotation: Any, where: str) -> list[str]:
    """Where ``value`` does not match ``annotation`` (empty: it matches). Handles the types a
    page context may hold: scalars, ``None``, unions, ``Literal``, tuples (variadic and
    fixed), lists, dicts, TypedDicts, enums, nested frozen dataclasses, :class:`Text`."""
    from esgledger.i18n import Text

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return _json_like(value, where)
    if annotation is None or annotation is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if origin in (typing.Union, types.UnionType):
        tried = [check_value(value, arg, where) for arg in args]
        if any(not problems for problems in tried):
            return []
        return [f"{where}: {value!r} matches none of {annotation}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {args}"]
    if origin is typing.Annotated:
        return check_value(value, args[0], where)
    if isinstance(annotation, typing.NewType):
        return check_value(value, annotation.__supertype__, where)
    if isinstance(annotation, typing.TypeAliasType if hasattr(typing, "TypeAliasType") else ()):
        return check_value(value, annotation.__value__, where)  # type: ignore[attr-defined]
    if origin is tuple:
        if not isinstance(value, tuple):
            return [f"{where}: {type(value).__name__} is not a tuple"]
        if len(args) == 2 and args[1] is Ellipsis:
            return [
                p for i, v in enumerate(value) for p in check_value(v, args[0], f"{where}[{i}]")
            ]
        if args == ((),):
            args = ()
        if args and len(args) != len(value):
            return [f"{where}: {len(value)} items, the type says {len(args)}"]
        return [
            p
            for i, (v, a) in enumerate(zip(value, args, strict=True))
            for p in check_value(v, a, f"{where}[{i}]")
        ]
    if origin in (list, Sequence):
        if not isinstance(value, list if origin is list else (list, tuple)):
            return [f"{where}: {type(value).__name__} is not a {origin.__name__}"]
        return [p for i, v in enumerate(value) for p in check_value(v, args[0], f"{where}[{i}]")]
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            return [f"{where}: {type(value).__name__} is not a mapping"]
        key_type, value_type = args or (Any, Any)
        return [
            p
            for k, v in value.items()
            for p in check_value(k, key_type, f"{where} key")
            + check_value(v, value_type, f"{where}[{k!r}]")
        ]
    if typing.is_typeddict(annotation):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} is not a {annotation.__name__}"]
        hints = typing.get_type_hints(annotation)
        extra = set(value) - set(hints)
        problems = [f"{where}: keys {sorted(extra)} not in {annotation.__name__}"] if extra else []
        missing = annotation.__required_keys__ - set(value)
        if missing:
            problems.append(f"{where}: missing keys {sorted(missing)}")
        return problems + [
            p
            for k, v in value.items()
            if k in hints
            for p in check_value(v, hints[k], f"{where}.{k}")
        ]
    if annotation is Text:
        return [] if isinstance(value, Text) else [f"{where}: {type(value).__name__} is not Text"]
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if type(value) is not annotation:
            return [f"{where}: {type(value).__name__} is not {annotation.__name__}"]
        return check_dataclass(value, where)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return (
            []
            if isinstance(value, annotation)
            else [f"{where}: {value!r} is not {annotation.__name__}"]
        )
    if annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a float"]
    if annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not an int"]
    if annotation is dt.date:
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return [] if ok else [f"{where}: {value!r} is not a date"]
    if annotation in _SCALARS:
        return (
            []
            if isinstance(value, annotation)
            else [f"{where}: {value!r} is not {annotation.__name__}"]
        )
    return [f"{where}: the annotation {annotation!r} is not one a page context may use"]


def check_dataclass(value: Any, where: str) -> list[str]:
    """``value`` (a dataclass instance) against its declaration: frozen, documented (its own
    docstring, not the generated signature), every field as annotated."""
    cls = type(value)
    problems = []
    if not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        problems.append(f"{where}: {cls.__name__} is not frozen")
    doc = cls.__doc__ or ""
    if not doc.strip() or doc.startswith(f"{cls.__name__}("):
        problems.append(f"{where}: {cls.__name__} has no docstring")
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        problems += check_value(getattr(value, item.name), hints[item.name], f"{where}.{item.name}")
    return problems


def _samples() -> tuple[type, type]:
    from esgledger.i18n import Text
    from esgledger.server.web.pages import PageContext

    @dataclasses.dataclass(frozen=True, slots=True)
    class Row:
        """A row."""

        name: Text
        value: float | None

    @dataclasses.dataclass(frozen=True, slots=True)
    class Sample(PageContext):
        """A sample page."""

        rows: tuple[Row, ...]
        counts: dict[str, int]
        kind: typing.Literal["a", "b"]

    # get_type_hints resolves the string annotations in the module's namespace
    globals().update(Row=Row, Text=Text)
    return Sample, Row


def test_every_rendered_context_matches_its_declaration(site: SiteCrawl) -> None:
    from esgledger.server.web.pages import PageContext

    problems: list[str] = []
    templates = set()
    for page in site.pages:  # the crawl recorded what render() got for each page
        recorded = site.contexts[page]
        if not recorded:
            problems.append(f"{page.url}: rendered without render()")
        for template, context in recorded:
            templates.add(template)
            if not isinstance(context, PageContext):
                problems.append(f"{template}: {type(context).__name__} is not a PageContext")
                continue
            problems += check_dataclass(context, f"{template}: {type(context).__name__}")
    assert {"home.html", "sign_in.html", "error.html", "jobs/job.html"} <= templates
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_checker_refuses_a_mistyped_context() -> None:
    from esgledger.i18n import Text

    sample, row = _samples()
    good = sample((row(Text("x", "甲"), 1), row(Text("y"), None)), {"a": 1}, "a")
    assert check_dataclass(good, "good") == []
    bad = sample([row("x", "1")], {"a": True}, "c")  # type: ignore[arg-type]
    found = check_dataclass(bad, "bad")
    assert len(found) == 3, found
    assert check_value(object(), Any, "any") != []


def test_every_page_route_declares_one_action_and_roles_csv_has_it(site: SiteCrawl) -> None:
    from esgledger.access import policy
    from esgledger.server.deps import page_routes, route_actions

    with page_client(site.demo, None) as client:
        app = client.app
        known = set(policy.actions())
        problems = []
        for route in page_routes(app):
            if "GET" not in (route.methods or set()):
                continue
            actions = route_actions(route)
            if route.path in PUBLIC_PAGES:
                if actions:
                    problems.append(f"{route.path} is public but declares {sorted(actions)}")
                continue
            if len(actions) != 1:
                problems.append(f"{route.path} declares {sorted(actions)}, not exactly one action")
            problems += [f"{route.path}: {a} is not in roles.csv" for a in actions - known]
        assert get_page_routes(app) - PUBLIC_PAGES, "no page route declares an action"
    assert not problems, "\n".join(problems)


def test_each_role_sees_the_pages_it_may_and_a_403_page_for_the_others(site: SiteCrawl) -> None:
    from esgledger.access import Principal
    from esgledger.access.policy import allowed
    from esgledger.server.deps import page_routes, route_actions

    with page_client(site.demo, None) as client:
        action_of = {
            r.path: next(iter(route_actions(r)))
            for r in page_routes(client.app)
            if "GET" in (r.methods or set()) and len(route_actions(r)) == 1
        }
    # one URL per route is enough to judge the role check (it is the route's), and a page a
    # user's own crawl opened with a 200 needs no second look
    first: dict[str, str] = {}
    for p in site.whole_pages():
        if p.status == 200 and p.route in action_of:
            first.setdefault(p.route, p.url)
    problems: list[str] = []
    checked = {"allowed": 0, "denied": 0}
    for username, (role, scope) in site.users.items():
        principal = Principal(username, role, scope)
        own = {p.url for p in site.pages_of(username)}
        checked["allowed"] += len(own)
        with page_client(site.demo, username, "zh-CN") as client:
            for route, url in first.items():
                if url in own:
                    continue
                answer = client.get(url)
                status = answer.status_code
                is_html = answer.headers.get("content-type", "").startswith("text/html")
                if allowed(principal, action_of[route]) is True:
                    checked["allowed"] += 1
                    # another user's URL may concern an entity or a job outside this user's
                    # scope (403 or 404)
                    expected = {200, 403, 404}
                else:
                    checked["denied"] += 1
                    expected = {403}
                if status not in expected:
                    problems.append(f"{url} as {username} ({role}): {status}, not {expected}")
                elif status != 200 and not (is_html and '<html lang="zh-CN">' in answer.text):
                    problems.append(f"{url} as {username}: the {status} is not a zh-CN page")
        for url in own:
            route = next(p.route for p in site.pages_of(username) if p.url == url)
            if route in action_of and allowed(principal, action_of[route]) is not True:
                problems.append(f"{url} opened for {username} ({role}) without {action_of[route]}")
    assert checked["allowed"]
    assert not problems, "\n".join(problems)
