"""Importer of the instrument register: certificates, PPAs, green tariffs, on-site plants.

环境权益工具登记导入：绿证、绿电交易、国际绿证、购电协议、绿色电价、自发自用。

``esgledger import WS --kind instruments FILE`` reads a CSV / XLSX / Parquet file whose
columns are declared in ``esgledger/schema/instrument_columns.csv`` (English names, the
Chinese headers of that file, or an alias), checks **every** row and then either stores the
whole file in one transaction or rejects it with an :class:`~esgledger.errors.InputError`
whose issues name the row, column, value, problem and fix. Importing the same bytes again is
a no-op.

Instruments are registered once: an id already stored is an error, not an update (a
certificate batch that changes is a new instrument; a registry id is unique per type). The
checks here are about the data; whether an instrument may reduce market-based scope 2 for a
given consumption (market boundary, vintage, retirement, China's rules) is decided per
reporting year by :mod:`esgledger.renewables.quality`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esgledger.ingest import ImportResult
from esgledger.ingest.batches import already_imported, batch_ids, commit_batch, file_sha256
from esgledger.ingest.readers import RawTable, read_table
from esgledger.ingest.reference import (
    ColumnSpec,
    _Checker,
    _dedupe,
    _did_you_mean,
    _fold,
    _plural,
    _region_fix,
    column_specs,
)
from esgledger.ingest.values_guard import guard_text

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = ["KIND", "import_instruments", "instrument_column_specs"]

#: The import kind (``esgledger import --kind instruments``).
KIND = "instruments"

_ID_LENGTH = 200
_VOLUME_FIX = "give the MWh whose attributes the instrument carries (1 certificate = 1 MWh)"


def instrument_column_specs() -> tuple[ColumnSpec, ...]:
    """The columns of an instrument file (``esgledger/schema/instrument_columns.csv``)."""
    return column_specs(KIND)


def _header_map() -> tuple[dict[str, list[str]], list[str]]:
    specs = instrument_column_specs()
    columns = {
        s.column: [a for a in (s.header_zh, *s.aliases) if a and a != s.column] for s in specs
    }
    return columns, [s.column for s in specs if s.required]


@cache
def _lookup(vocabulary: str) -> dict[str, str]:
    """Folded spelling → key, for ``type`` or ``technology``."""
    from esgledger.renewables.instruments import instrument_types, technologies

    out: dict[str, str] = {}
    if vocabulary == "type":
        for t in instrument_types().values():
            for spelling in (t.type, t.name, t.name_zh, *t.aliases):
                out[_fold(spelling)] = t.type
    else:
        for tech in technologies().values():
            for spelling in (tech.technology, tech.name, tech.name_zh, *tech.aliases):
                out[_fold(spelling)] = tech.technology
    return out


def import_instruments(
    workspace: Workspace, path: Path | str, *, progress: bool = False
) -> ImportResult:
    """Import a file of contractual instruments into the register, whole or not at all.

    Columns (``esgledger/schema/instrument_columns.csv``): ``instrument``, ``type``,
    ``technology``, ``country``, ``period_start``, ``period_end``, ``mwh`` [MWh] are
    required; ``generator``, ``commissioned``, ``region``, ``retired_on``, ``retired_for``
    (an imported entity or site), ``registry_id``, ``co2_kg_per_mwh`` [kg CO2/MWh; required
    for ``green_tariff``], ``contract_signed``, ``attributes_sold``, ``notes`` are optional.

    Parameters
    ----------
    workspace
        The open workspace.
    path
        The CSV, XLSX or Parquet file.
    progress
        Accepted for the common importer signature (the register is small).

    Returns
    -------
    ImportResult
        ``created`` is False when the same bytes were imported before (nothing changes).

    Raises
    ------
    InputError
        If the file cannot be read or any row is wrong; nothing is written.
    """
    from esgledger.store.repository import batch_id_for, load_entities, load_sites
    from esgledger.store.repository_renewables import load_instruments, save_instruments

    path = Path(path)
    digest = file_sha256(path)
    done = already_imported(workspace, KIND, path, digest)
    if done is not None:
        return done
    columns, required = _header_map()
    table = guard_text(read_table(path, columns=columns, required=required))
    batch_id = batch_id_for(KIND, digest)
    seen = batch_ids(workspace)

    def validated() -> list[dict[str, Any]]:
        with workspace.session() as session:
            entities = [e["code"] for e in load_entities(session)]
            sites = [s["code"] for s in load_sites(session)]
            stored = load_instruments(session)
        return _validate(table, entities, sites, stored)

    records = validated()
    n = len(records)
    message = f"Imported {_plural(n, 'instrument')} from {table.file} as batch {batch_id}."

    def recheck() -> Callable[[Any, Any], object]:
        again = validated()  # against what other imports stored meanwhile
        return lambda s, b: save_instruments(s, again, b)

    return commit_batch(
        workspace,
        KIND,
        path,
        digest,
        rows=n,
        write=lambda s, b: save_instruments(s, records, b),
        message=message,
        summary={"mwh": sum(r["mwh"] for r in records)},
        seen=seen,
        recheck=recheck,
    )


def _validate(
    table: RawTable,
    entities: Sequence[str],
    sites: Sequence[str],
    stored: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    from esgledger.regions import all_regions
    from esgledger.renewables.instruments import INSTRUMENT_TYPES, TECHNOLOGIES

    regions = all_regions()
    check = _Checker(table)
    check.require_rows()
    stored_ids = {str(s["instrument"]): s for s in stored}
    stored_registry = {
        (str(s["type"]), str(s["registry_id"])): str(s["instrument"])
        for s in stored
        if s["registry_id"] is not None
    }
    claimants = set(entities) | set(sites)
    seen: dict[str, tuple[int, str]] = {}
    registry_rows: dict[tuple[str, str], int] = {}
    records: list[dict[str, Any]] = []
    for row, record in table.rows():
        instrument = check.code(row, record, "instrument", required=True, max_length=_ID_LENGTH)
        type_text = check.text(row, record, "type", required=True, max_length=60)
        tech_text = check.text(row, record, "technology", required=True, max_length=60)
        generator = check.text(row, record, "generator")
        commissioned = check.date(row, record, "commissioned")
        country = check.country(row, record)
        region_text = check.code(row, record, "region", max_length=60)
        start = check.date(row, record, "period_start", required=True)
        end = check.date(row, record, "period_end", required=True)
        mwh = check.number(row, record, "mwh", required=True)
        retired_on = check.date(row, record, "retired_on")
        retired_for = check.code(row, record, "retired_for")
        registry_id = check.text(row, record, "registry_id", max_length=_ID_LENGTH)
        rate = check.number(row, record, "co2_kg_per_mwh")
        signed = check.date(row, record, "contract_signed")
        sold = check.boolean(row, record, "attributes_sold", required=False)
        notes = check.text(row, record, "notes", max_length=4000)

        kind: str | None = None
        if type_text is not None:
            kind = _lookup("type").get(_fold(type_text))
            if kind is None:
                check.add(
                    row,
                    "type",
                    type_text,
                    "unknown instrument type",
                    _did_you_mean(type_text, INSTRUMENT_TYPES)
                    + f"use one of: {', '.join(INSTRUMENT_TYPES)}",
                )
        technology: str | None = None
        if tech_text is not None:
            technology = _lookup("technology").get(_fold(tech_text))
            if technology is None:
                check.add(
                    row,
                    "technology",
                    tech_text,
                    "unknown technology",
                    _did_you_mean(tech_text, TECHNOLOGIES)
                    + f"use one of: {', '.join(TECHNOLOGIES)}",
                )
        region: str | None = None
        if region_text is not None:
            found = regions.get(region_text.upper())
            if found is None:
                check.add(
                    row,
                    "region",
                    region_text,
                    "unknown region code",
                    _region_fix(region_text, country)
                    + "use a code of esgledger's regions table (CN-NM, US-EGRID-CAMX …), or "
                    "leave it empty for the whole country",
                )
            elif country is not None and found.country != country:
                check.add(
                    row,
                    "region",
                    region_text,
                    f"region {found.code} ({found.name}) is not in the instrument's country "
                    f"{country}",
                    "correct the country or the region",
                )
            else:
                region = found.code
        elif country is not None:
            region = country
        if start is not None and end is not None and end < start:
            check.add(
                row,
                "period_end",
                end.isoformat(),
                f"the period ends before it starts (period_start {start.isoformat()})",
                "swap period_start and period_end, or correct the dates",
            )
        if mwh is not None:
            if mwh < 0:
                check.add(row, "mwh", record.get("mwh"), "a volume cannot be negative", _VOLUME_FIX)
                mwh = None
            elif mwh == 0:
                check.add(
                    row, "mwh", record.get("mwh"), "a volume of 0 MWh carries no claim", _VOLUME_FIX
                )
                mwh = None
            elif not mwh < float("inf"):
                check.add(row, "mwh", record.get("mwh"), "not a finite number", _VOLUME_FIX)
                mwh = None
        if retired_on is not None and start is not None and retired_on < start:
            check.add(
                row,
                "retired_on",
                retired_on.isoformat(),
                f"retired before its generation period starts ({start.isoformat()})",
                "a certificate is issued for generation that happened: correct the dates",
            )
        if commissioned is not None and end is not None and commissioned > end:
            check.add(
                row,
                "commissioned",
                commissioned.isoformat(),
                f"the plant was commissioned after the generation period ends ({end.isoformat()})",
                "correct the commissioning date or the period",
            )
        if retired_for is not None and retired_for not in claimants:
            case = [c for c in claimants if c.upper() == retired_for.upper()]
            fix = (
                f"use {case[0]!r} (codes are case-sensitive)"
                if case
                else _did_you_mean(retired_for, sorted(claimants))
                + "name an imported entity or site (import it first with --kind entities or "
                "--kind sites)"
            )
            check.add(
                row,
                "retired_for",
                retired_for,
                f"unknown entity or site {retired_for!r}: it is not imported",
                fix,
            )
        if rate is not None and rate < 0:
            check.add(
                row,
                "co2_kg_per_mwh",
                record.get("co2_kg_per_mwh"),
                "an emission rate cannot be negative",
                "give the kg CO2 per MWh the instrument conveys (0 for wind or solar)",
            )
            rate = None
        if kind == "green_tariff" and rate is None and not check.flagged(row, "co2_kg_per_mwh"):
            check.add(
                row,
                "co2_kg_per_mwh",
                None,
                "a green tariff needs the supplier's emission rate",
                "give the supplier-specific rate in kg CO2 per MWh (0 if the supplier retires "
                "zero-emission certificates for you)",
            )
        if instrument is None or not _dedupe(
            check, row, "instrument", instrument, seen, "instrument"
        ):
            continue
        if instrument in stored_ids:
            earlier = stored_ids[instrument]
            check.add(
                row,
                "instrument",
                instrument,
                f"instrument {instrument!r} is already stored (batch {earlier['batch_id']})",
                "an instrument is registered once: give a new instrument a new id",
            )
        if registry_id is not None and kind is not None:
            key = (kind, registry_id)
            if key in registry_rows:
                check.add(
                    row,
                    "registry_id",
                    registry_id,
                    f"registry id {registry_id!r} of type {kind} appears more than once in the "
                    f"file (first in row {registry_rows[key]})",
                    "one registry id is one instrument: keep one row",
                )
            elif key in stored_registry:
                check.add(
                    row,
                    "registry_id",
                    registry_id,
                    f"registry id {registry_id!r} of type {kind} is already stored as "
                    f"instrument {stored_registry[key]!r}",
                    "the same certificates cannot be registered twice",
                )
            else:
                registry_rows[key] = row
        records.append(
            {
                "instrument": instrument,
                "type": kind,
                "technology": technology,
                "generator": generator,
                "commissioned": commissioned,
                "country": country,
                "region": region,
                "period_start": start,
                "period_end": end,
                "mwh": mwh,
                "retired_on": retired_on,
                "retired_for": retired_for,
                "registry_id": registry_id,
                "co2_kg_per_mwh": rate,
                "contract_signed": signed,
                "attributes_sold": bool(sold),
                "notes": notes,
            }
        )
    check.raise_if_any()
    return records
