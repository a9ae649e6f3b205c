"""Issue 11, defects 6-8: values that poison a workspace.

Numbers that are not finite or beyond the bounds of ``schema/value_bounds.csv``, numbers in
another grammar, negative metric values, and control or invisible characters in text — in
several import kinds. Each is refused with exit 2 and a message naming the column.
"""

from __future__ import annotations

from hostile._corpus import ACTIVITY_HEADER, Case, activities, activity_row, text_file

FACTOR_HEADER = "factor,activity,region,year,unit,co2e_kg,gwp_basis,source"
HISTORY_HEADER = "year,scope,category,t_co2e,source"
FX_HEADER = "year,currency,per_usd,source"
ENTITY_HEADER = "entity,name,parent,ownership_pct,operational_control,financial_control,country"
SITE_HEADER = "site,entity,name,country,region,type"
METRIC_HEADER = "metric,entity,year,value,unit"
INSTRUMENT_HEADER = (
    "instrument,type,technology,country,period_start,period_end,mwh,retired_on,retired_for"
)


def _factor_file(co2e: str, unit: str = "kWh", name: str = "factors.csv"):  # type: ignore[no-untyped-def]
    row = f"MY-ELEC,electricity,CN,2024,{unit},{co2e},AR5,own measurement"
    return text_file(name, f"{FACTOR_HEADER}\n{row}\n")


def _history(t_co2e: str):  # type: ignore[no-untyped-def]
    return text_file("history.csv", f"{HISTORY_HEADER}\n2021,1,,{t_co2e},published report\n")


def _fx(rate: str):  # type: ignore[no-untyped-def]
    return text_file("fx.csv", f"{FX_HEADER}\n2024,CNY,{rate},own rate\n")


def _metric(value: str, metric: str = "A1.1.air", unit: str = "kg", extra: str = ""):  # type: ignore[no-untyped-def]
    row = f"{metric},GRP,2024,{value},{unit}"
    return text_file("metric_values.csv", f"{METRIC_HEADER}\n{row}\n{extra}")


def _instrument(mwh: str):  # type: ignore[no-untyped-def]
    row = f"GEC-1,certificate,wind,CN,2024-01-01,2024-12-31,{mwh},2024-12-31,CLOUD"
    return text_file("instruments.csv", f"{INSTRUMENT_HEADER}\n{row}\n")


CASES: list[Case] = [
    # -- defect 6: not finite, or beyond the bounds of the unit's dimension
    Case("values-quantity-1e308", activities(activity_row("1e308")), says="quantity"),
    Case("values-quantity-1e27-mwh", activities(activity_row("1e27", "MWh")), says="bounds"),
    Case("values-quantity-inf", activities(activity_row("inf")), says="not a finite number"),
    Case("values-quantity-nan", activities(activity_row("nan")), says="not a finite number"),
    Case("values-quantity-1e999", activities(activity_row("1e999")), says="not a finite"),
    Case("values-unit-inf-kwh", activities(activity_row("1", "inf kWh")), says="unit"),
    Case("values-unit-1e308-kwh", activities(activity_row("1", "1e308 kWh")), says="unit"),
    Case(
        "values-quantity-at-bound-lands",
        activities(activity_row("1e11", "MWh")),
        expect=0,
    ),
    Case("values-factor-1e999", _factor_file("1e999"), kind="factors", says="co2e_kg"),
    Case("values-factor-beyond-bound", _factor_file("1e6"), kind="factors", says="bounds"),
    Case("values-factor-unit-inf", _factor_file("0.5", "inf kWh"), kind="factors", says="unit"),
    Case(
        "values-history-1e999",
        _history("1e999"),
        kind="emissions-history",
        says="not a finite number",
        postgres=True,
    ),
    Case("values-history-1e20", _history("1e20"), kind="emissions-history", says="t_co2e"),
    Case("values-fx-inf", _fx("inf"), kind="fx", says="per_usd"),
    Case("values-fx-1e300", _fx("1e300"), kind="fx", says="bounds"),
    Case("values-metric-1e308", _metric("1e308"), kind="metric-values", says="bounds"),
    Case("values-metric-nan", _metric("nan"), kind="metric-values", says="not a finite"),
    Case("values-instrument-1e999", _instrument("1e999"), kind="instruments", says="mwh"),
    Case("values-instrument-1e15", _instrument("1e15"), kind="instruments", says="bounds"),
    # -- defect 7: negative values where the metric cannot be negative; one number grammar
    Case(
        "values-metric-headcount-negative",
        _metric("-5", "employees", ""),
        kind="metric-values",
        says="employees cannot be negative",
    ),
    Case(
        "values-metric-waste-negative",
        _metric("-1500", "A1.4", "kg"),
        kind="metric-values",
        says="A1.4 cannot be negative",
        postgres=True,
    ),
    Case(
        "values-metric-days-lost-negative",
        _metric("-3", "B2.2", "day"),
        kind="metric-values",
        says="B2.2 cannot be negative",
    ),
    Case(
        "values-metric-ghg-reduction-may-be-negative",
        _metric("-3", "GRI 305-5", "t"),
        kind="metric-values",
        expect=0,
    ),
    Case("values-quantity-underscore", activities(activity_row("1_000")), says="underscore"),
    Case("values-quantity-comma", activities(activity_row('"1,000"')), says="comma"),
    Case("values-quantity-hex", activities(activity_row("0x10")), says="hexadecimal"),
    Case("values-quantity-leading-plus-lands", activities(activity_row("+5")), expect=0),
    Case("values-factor-underscore", _factor_file("0_5"), kind="factors", says="underscore"),
    Case("values-history-underscore", _history("1_000"), kind="emissions-history", says="t_co2e"),
    Case("values-fx-underscore", _fx("7_2"), kind="fx", says="underscore"),
    Case("values-metric-underscore", _metric("1_000"), kind="metric-values", says="underscore"),
    Case("values-instrument-underscore", _instrument("1_000"), kind="instruments", says="mwh"),
    Case(
        "values-history-year-underscore",
        text_file("history.csv", f"{HISTORY_HEADER}\n2_021,1,,100,published\n"),
        kind="emissions-history",
        says="year",
    ),
    # -- defect 8: NUL anywhere; control and invisible characters in codes; NFC
    Case(
        "text-nul-in-activity-notes",
        text_file("nul.csv", f"{ACTIVITY_HEADER},notes\n{activity_row()},bad\x00note\n"),
        says="NUL",
        postgres=True,
    ),
    Case(
        "text-zero-width-in-site",
        activities(activity_row(site="DC\u200b-TJ")),
        says="invisible",
        postgres=True,
    ),
    Case(
        "text-bidi-override-in-record-id",
        activities(activity_row(record_id="R\u202e1")),
        says="invisible",
    ),
    Case("text-soft-hyphen-in-unit", activities(activity_row(unit="M\u00adWh")), says="unit"),
    Case(
        "text-nul-in-entity-name",
        text_file("entities.csv", f"{ENTITY_HEADER}\nE9,Bad\x00Name,GRP,100,true,true,CN\n"),
        kind="entities",
        says="NUL",
        postgres=True,
    ),
    Case(
        "text-zero-width-joiner-in-entity-code",
        text_file("entities.csv", f"{ENTITY_HEADER}\nE\u200d9,Name,GRP,100,true,true,CN\n"),
        kind="entities",
        says="invisible",
        postgres=True,
    ),
    Case(
        "text-bom-inside-site-code",
        text_file("sites.csv", f"{SITE_HEADER}\nS\ufeff1,CLOUD,Site,CN,CN-TJ,office\n"),
        kind="sites",
        says="invisible",
    ),
    Case(
        "text-zero-width-in-factor-id",
        text_file(
            "factors.csv",
            f"{FACTOR_HEADER}\nMY\u200b-ELEC,electricity,CN,2024,kWh,0.5,AR5,own\n",
        ),
        kind="factors",
        says="invisible",
    ),
    Case(
        "text-nul-in-history-source",
        text_file("history.csv", f"{HISTORY_HEADER}\n2021,1,,100,report\x00 2021\n"),
        kind="emissions-history",
        says="NUL",
        postgres=True,
    ),
    Case(
        "text-nul-in-metric-notes",
        text_file(
            "metric_values.csv", "metric,entity,year,value,unit,notes\nA1.4,GRP,2024,5,t,x\x00\n"
        ),
        kind="metric-values",
        says="NUL",
        postgres=True,
    ),
    Case(
        "text-line-separator-in-instrument-id",
        text_file(
            "instruments.csv",
            f"{INSTRUMENT_HEADER}\nGEC\u2028-1,certificate,wind,CN,2024-01-01,2024-12-31,"
            "10,2024-12-31,CLOUD\n",
        ),
        kind="instruments",
        says="invisible",
    ),
    Case(
        "text-decomposed-accents-land-as-nfc",
        text_file("nfc.csv", f"{ACTIVITY_HEADER},notes\n{activity_row()},Cafe\u0301\n"),
        expect=0,
        postgres=True,
    ),
]
