"""The factor pages: browse and search the library, one factor's provenance, and "how would
this row resolve" (the engine's resolver on a form).

Every page needs ``inventory:read``; the library is the shipped sets overlaid with the
workspace's user sets (:func:`esgledger.factors.service.workspace_library`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.errors import EsgledgerError, InputError, UnitError, UnknownActivityError
from esgledger.factors import TIERS
from esgledger.factors import service as factors
from esgledger.factors.service import RowQuery
from esgledger.i18n import Text
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, render
from esgledger.taxonomy import Taxonomy

__all__ = ["FactorPage", "FactorsPage", "ResolvePage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)

Reader = Annotated[Principal, PageAllowed("inventory:read")]

#: Methods a row may be restricted to on the resolve form (the factor columns' ``method``).
METHODS = (
    "fuel",
    "location",
    "residual_mix",
    "supplier",
    "fossil_only",
    "market_reporting",
    "lifecycle",
    "average",
    "waste",
    "distance",
    "distance_rf",
    "spend",
)


@dataclass(frozen=True, slots=True)
class FactorRow:
    """One factor in the list: id, activity key, region code, vintage, unit, method, set id,
    and its amounts [kg per unit]: published CO2e and CO2 (None when not given)."""

    factor_id: str
    activity: str
    region: str
    year: int | None
    unit: str
    method: str | None
    factor_set: str
    co2e_kg: float | None
    co2_kg: float | None


@dataclass(frozen=True, slots=True)
class SetChoice:
    """A factor set offered by the source filter: its id and name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class FactorFilters:
    """The filters of the list as the user gave them (empty string: not given)."""

    text: str
    source: str
    region: str
    year: str
    activity: str

    def params(self) -> dict[str, str]:
        return {
            "q": self.text,
            "source": self.source,
            "region": self.region,
            "year": self.year,
            "activity": self.activity,
        }


@dataclass(frozen=True, slots=True)
class FactorsPage(PageContext):
    """``/factors``: the filters, the number of matching factors, page ``page_no`` of
    ``pages`` (50 a page) with its rows, and the choices of the filters (sets, region codes
    and vintages of the whole library). ``year_invalid``: the year filter is not a year."""

    filters: FactorFilters
    total: int
    page_no: int
    pages: int
    has_next: bool
    rows: tuple[FactorRow, ...]
    sets: tuple[SetChoice, ...]
    regions: tuple[str, ...]
    years: tuple[int, ...]
    year_invalid: bool


@dataclass(frozen=True, slots=True)
class Amount:
    """One amount of a factor: the gas (``co2e``, ``co2``, ``ch4``, ``n2o``,
    ``biogenic_co2``) and kg per factor unit."""

    gas: str
    kg: float


@dataclass(frozen=True, slots=True)
class FactorPage(PageContext):
    """``/factors/{id}``: one factor and where it comes from. ``fields``: the factor's own
    columns (name → text, None when empty) in the order shown; ``amounts``: its amounts;
    ``gases``: the gases it gives; ``activity_name``: the activity's name (None if the
    taxonomy lacks it); ``set_*``: the set's metadata; ``shipped``: a shipped set (else a
    user set of the workspace)."""

    factor_id: str
    activity: str
    activity_name: Text | None
    fields: tuple[tuple[str, str | None], ...]
    amounts: tuple[Amount, ...]
    gases: tuple[str, ...]
    set_id: str
    set_name: str | None
    set_source: str | None
    set_edition: str | None
    set_licence: str | None
    set_attribution: str | None
    set_precedence: int
    shipped: bool


@dataclass(frozen=True, slots=True)
class ActivityChoice:
    """An activity of the taxonomy offered on the resolve form: key and name."""

    key: str
    name: Text


@dataclass(frozen=True, slots=True)
class ResolveForm:
    """The resolve form as the user filled it in (empty string: not given)."""

    activity: str
    region: str
    unit: str
    year: str
    site: str
    supplier: str
    method: str
    quantity: str = ""


@dataclass(frozen=True, slots=True)
class FormProblem:
    """A problem of the form: the field, the string key of the message, and the offending
    value."""

    field: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ResolveResult:
    """What the resolver chose for the row keyed to ``region`` (taken from ``region_from``:
    ``row``, ``site`` or ``site country``): the factor and its set, region, vintage, unit and
    source; the tier; the vintage gap [years] against the reporting year; the reason in both
    languages; how a row unit becomes factor units (None for money); the candidates passed
    over (``"<factor id>: <why>"``); the quantity given on the form and that quantity in
    factor units (None without a quantity, or for money, which the engine converts with the
    year's exchange rate and price index)."""

    region: str
    region_from: str
    factor_id: str
    factor_set: str
    factor_region: str
    factor_year: int | None
    factor_unit: str
    source: str | None
    tier: str
    vintage_gap: int
    reporting_year: int
    reason: Text
    conversion: str | None
    considered: tuple[str, ...]
    quantity: float | None = None
    quantity_in_factor_unit: float | None = None


@dataclass(frozen=True, slots=True)
class ResolvePage(PageContext):
    """``/factors/resolve``: the form, the activities and methods it offers, the problems of
    the last submission (with the domain's own words in ``detail``, untranslated), and the
    result when it resolved."""

    form: ResolveForm
    activities: tuple[ActivityChoice, ...]
    methods: tuple[str, ...]
    tiers: tuple[str, ...]
    problems: tuple[FormProblem, ...]
    detail: str | None
    result: ResolveResult | None


def _sig(value: float | None) -> float | None:
    """A factor amount to 6 significant digits (as the CLI prints it): binary noise such as
    0.44189999999999996 reads 0.4419."""
    return None if value is None else float(f"{value:.6g}")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@router.get("/factors")
def factor_list(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    q: str = "",
    source: str = "",
    region: str = "",
    year: str = "",
    activity: str = "",
    page: int = 1,
) -> Response:
    filters = FactorFilters(_text(q), _text(source), _text(region), _text(year), _text(activity))
    year_value = _int_or_none(filters.year) if filters.year else None
    year_invalid = bool(filters.year) and year_value is None
    data = factors.factor_list(
        workspace,
        text=filters.text or None,
        source=filters.source or None,
        region=filters.region or None,
        year=year_value,
        activity=filters.activity or None,
        page=page,
    )
    rows = tuple(
        FactorRow(
            factor_id=str(f["factor_id"]),
            activity=str(f["activity"]),
            region=str(f["region"]),
            year=f["year"],
            unit=str(f["unit"]),
            method=f["method"],
            factor_set=str(f["factor_set"]),
            co2e_kg=_sig(f["co2e_kg"]),
            co2_kg=_sig(f["co2_kg"]),
        )
        for f in data["factors"]
    )
    context = FactorsPage(
        filters=filters,
        total=int(data["total"]),
        page_no=int(data["page"]),
        pages=int(data["pages"]),
        has_next=int(data["page"]) < int(data["pages"]),
        rows=rows,
        sets=tuple(SetChoice(str(s["id"]), str(s["name"] or s["id"])) for s in data["sets"]),
        regions=tuple(str(r) for r in data["regions"]),
        years=tuple(int(y) for y in data["years"]),
        year_invalid=year_invalid,
    )
    return render(
        request,
        "factors/list.html",
        context,
        status_code=422 if year_invalid else 200,
        block="results" if request.headers.get("hx-target") == "factor-results" else "content",
    )


def _resolve_form_page(workspace: Any, form: ResolveForm) -> tuple[ResolvePage, int]:
    """Validate the form, run the resolver, and give the page and its status."""
    taxonomy = Taxonomy.for_workspace(workspace)
    activities = tuple(
        ActivityChoice(a.activity, Text(a.name, a.name_zh or a.name)) for a in taxonomy
    )
    problems: list[FormProblem] = []
    result: ResolveResult | None = None
    detail: str | None = None
    submitted = any((form.activity, form.region, form.unit, form.year))

    def page(status: int) -> tuple[ResolvePage, int]:
        return (
            ResolvePage(
                form=form,
                activities=activities,
                methods=METHODS,
                tiers=TIERS,
                problems=tuple(problems),
                detail=detail,
                result=result,
            ),
            status,
        )

    if not submitted:
        return page(200)
    for field_name in ("activity", "unit"):
        if not getattr(form, field_name):
            problems.append(FormProblem(field_name, "factors.resolve.required", ""))
    if not form.region and not form.site:
        problems.append(FormProblem("region", "factors.resolve.region_or_site", ""))
    year = _int_or_none(form.year) if form.year else None
    if form.year and (year is None or not 1990 <= year <= 2100):
        problems.append(FormProblem("year", "factors.resolve.bad_year", form.year))
    quantity: float | None = None
    if form.quantity:
        try:
            quantity = float(form.quantity.replace(",", ""))
        except ValueError:
            problems.append(FormProblem("quantity", "factors.resolve.bad_quantity", form.quantity))
        else:
            if quantity != quantity or quantity in (float("inf"), float("-inf")):
                problems.append(
                    FormProblem("quantity", "factors.resolve.bad_quantity", form.quantity)
                )
    if form.method and form.method not in METHODS:
        problems.append(FormProblem("method", "factors.resolve.bad_method", form.method))
    if problems:
        return page(422)
    query = RowQuery(
        activity=form.activity,
        region=form.region,
        unit=form.unit,
        supplier=form.supplier or None,
        site=form.site or None,
        year=year,
        methods=(form.method,) if form.method else None,
    )
    try:
        found = factors.resolve_row(workspace, query)
    except UnknownActivityError:
        problems.append(FormProblem("activity", "factors.resolve.bad_activity", form.activity))
        return page(422)
    except UnitError as exc:
        problems.append(FormProblem("unit", "factors.resolve.bad_unit", form.unit))
        detail = str(exc)
        return page(422)
    except InputError as exc:
        field_name = next((i.column for i in exc.issues if i.column), None) or "region"
        problems.append(
            FormProblem(field_name, f"factors.resolve.bad_{field_name}", _value(form, field_name))
        )
        return page(422)
    except EsgledgerError as exc:
        problems.append(FormProblem("", "factors.resolve.no_factor", ""))
        detail = str(exc)
        return page(422)
    data = factors.resolution_dict(found)
    factor = data["factor"]
    if data["unit_conversion"] is None:
        conversion = None
    elif data["conversion_path"] is not None:
        conversion = str(data["conversion_path"])
    else:
        conversion = f"1 {form.unit} = {data['unit_conversion']:.10g} {factor['unit']}"
    result = ResolveResult(
        factor_id=str(data["factor_id"]),
        factor_set=str(factor["factor_set"]),
        factor_region=str(factor["region"]),
        factor_year=factor["year"],
        factor_unit=str(factor["unit"]),
        source=factor["source"],
        region=str(data["region"]),
        region_from=str(data["region_from"]),
        tier=str(data["tier"]),
        vintage_gap=int(data["vintage_gap"]),
        reporting_year=int(data["reporting_year"]),
        reason=Text(data["reason"]["en"], data["reason"]["zh-CN"]),
        conversion=conversion,
        considered=tuple(str(c) for c in data["considered"]),
        quantity=quantity,
        quantity_in_factor_unit=(
            None
            if quantity is None or data["unit_conversion"] is None
            else float(f"{quantity * float(data['unit_conversion']):.10g}")
        ),
    )
    return page(200)


def _value(form: ResolveForm, field_name: str) -> str:
    value = getattr(form, field_name, "")
    return value if isinstance(value, str) else ""


@router.get("/factors/resolve")
def factor_resolve(
    request: Request,
    workspace: WorkspaceDep,
    principal: Reader,
    activity: str = "",
    region: str = "",
    unit: str = "",
    year: str = "",
    site: str = "",
    supplier: str = "",
    method: str = "",
    quantity: str = "",
) -> Response:
    form = ResolveForm(
        _text(activity), _text(region), _text(unit), _text(year), _text(site), _text(supplier),
        _text(method), _text(quantity),
    )  # fmt: skip
    context, status = _resolve_form_page(workspace, form)
    return render(request, "factors/resolve.html", context, status_code=status)


_FIELD_ORDER = (
    "factor_id",
    "activity",
    "region",
    "year",
    "unit",
    "method",
    "gwp_basis",
    "supplier",
    "site",
    "scope3_category",
    "currency",
    "price_year",
    "price_basis",
    "uncertainty_pct",
    "source",
    "source_row",
    "description",
)


@router.get("/factors/{factor_id:path}")
def factor_page(
    request: Request, workspace: WorkspaceDep, principal: Reader, factor_id: str
) -> Response:
    data = factors.factor_detail(workspace, factor_id)
    factor = data["factor"]
    info = data["set"]
    fields = tuple(
        (name, None if factor.get(name) is None else str(factor[name])) for name in _FIELD_ORDER
    )
    names = data["activity_name"]
    context = FactorPage(
        factor_id=str(factor["factor_id"]),
        activity=str(factor["activity"]),
        activity_name=None if names is None else Text(names["en"], names["zh-CN"] or names["en"]),
        fields=fields,
        amounts=tuple(
            Amount(name.removesuffix("_kg"), float(f"{float(factor[name]):.6g}"))
            for name in factors.VALUE_COLUMNS
            if factor.get(name) is not None
        ),
        gases=tuple(data["gases"]),
        set_id=str(info["id"]),
        set_name=info.get("name"),
        set_source=info.get("source"),
        set_edition=info.get("edition"),
        set_licence=info.get("licence"),
        set_attribution=info.get("attribution"),
        set_precedence=int(info["precedence"]),
        shipped=bool(info["shipped"]),
    )
    return render(request, "factors/factor.html", context)
