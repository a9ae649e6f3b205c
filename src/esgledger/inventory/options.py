"""A calculation's options as people name them — ``esgledger calculate``'s flags and the
parameters of a calculate job (``POST /api/v1/jobs``) — turned into the keyword arguments of
:func:`esgledger.inventory.calculate`.

计算选项：命令行参数与作业参数共用的转换。

:func:`calculation_options` is the one conversion both faces use; :func:`options_from_params`
first checks JSON parameters (names and types) and raises
:class:`~esgledger.errors.InputError` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from esgledger.errors import InputError, Issue
from esgledger.factors.resolve import PRICE_BASES, Strictness, proxies_from_options
from esgledger.gwp import GWP_SETS
from esgledger.inventory.engine import CONSOLIDATION_ALIASES

__all__ = ["CALCULATE_PARAMS", "calculation_options", "options_from_params"]

#: The parameters of a calculate job: name → (JSON type(s), default).
CALCULATE_PARAMS: dict[str, tuple[tuple[type, ...], Any]] = {
    "gwp": ((str,), "AR6"),
    "consolidation": ((str,), "operational"),
    "strict": ((bool,), False),
    "strict_tier": ((str,), "country"),
    "max_vintage_gap": ((int, type(None)), None),
    "allow_unresolved": ((bool,), False),
    "category_3": ((bool,), True),
    "proxy": ((list, type(None)), None),
    "price_basis": ((str,), "purchaser"),
    "category_3_proxies": ((bool, type(None)), None),
    "include": ((list,), []),
}


def calculation_options(
    *,
    gwp: str = "AR6",
    consolidation: str = "operational",
    strict: bool = False,
    strict_tier: str = "country",
    max_vintage_gap: int | None = None,
    allow_unresolved: bool = False,
    category_3: bool = True,
    proxy: Sequence[str] | None = None,
    price_basis: str = "purchaser",
    category_3_proxies: bool | None = None,
    include: Sequence[str] = (),
) -> dict[str, Any]:
    """Keyword arguments for :func:`esgledger.inventory.calculate` from the calculate
    options (``proxy`` as ``REGION=PROXY[,PROXY...]`` strings; ``strict_tier`` and
    ``max_vintage_gap`` apply only with ``strict``; ``include`` the batch statuses a preview
    run adds to the approved ones).

    Raises
    ------
    ValueError
        If a ``proxy`` option is malformed or the strict tier is unknown (the message names
        the value); the GWP set, consolidation and price basis are checked by ``calculate``.
    """
    strictness = (
        Strictness(max_tier=strict_tier, max_vintage_gap=max_vintage_gap) if strict else None
    )
    return {
        "gwp_set": gwp,
        "consolidation": consolidation,
        "strict": strictness,
        "allow_unresolved": allow_unresolved,
        "category_3": category_3,
        "proxies": proxies_from_options(proxy) if proxy else None,
        "price_basis": price_basis,
        "category_3_proxies": category_3_proxies,
        "include": tuple(include),
    }


def _refused(name: str, value: object, problem: str, fix: str) -> InputError:
    return InputError(
        f"the calculate parameter {name!r} was refused: {problem}",
        [Issue("", None, name, None if value is None else str(value)[:200], problem, fix)],
    )


def options_from_params(params: Mapping[str, object]) -> dict[str, Any]:
    """:func:`calculation_options` from a job's JSON parameters (:data:`CALCULATE_PARAMS`).

    Raises
    ------
    InputError
        If a parameter is unknown, of the wrong type, or refused by
        :func:`calculation_options`; the issue names it.
    """
    unknown = sorted(set(params) - set(CALCULATE_PARAMS))
    if unknown:
        raise _refused(
            unknown[0],
            None,
            "unknown parameter",
            f"use only {', '.join(CALCULATE_PARAMS)}",
        )
    values: dict[str, Any] = {}
    for name, (types, default) in CALCULATE_PARAMS.items():
        value = params.get(name, default)
        wrong = not isinstance(value, types) or (
            isinstance(value, bool) and bool not in types  # True is an int in Python
        )
        if name in ("proxy", "include") and isinstance(value, list):
            wrong = wrong or not all(isinstance(v, str) for v in value)
        if wrong:
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise _refused(name, value, f"expected {expected}", f"give {name} as {expected}")
        values[name] = value
    choices: dict[str, tuple[str, ...]] = {
        "gwp": GWP_SETS,
        "consolidation": (*CONSOLIDATION_ALIASES, *CONSOLIDATION_ALIASES.values()),
        "price_basis": PRICE_BASES,
    }
    for name, allowed in choices.items():
        if values[name] not in allowed:
            raise _refused(
                name, values[name], f"not one of {', '.join(allowed)}", "choose one of those"
            )
    gap = values["max_vintage_gap"]
    if gap is not None and not 0 <= gap <= 1000:
        raise _refused("max_vintage_gap", gap, "not 0 to 1000 years", "give a number of years")
    try:
        return calculation_options(**values)
    except ValueError as exc:
        name = "proxy" if "proxy" in str(exc) else "strict_tier"
        raise _refused(name, params.get(name), str(exc), "correct the value") from exc
