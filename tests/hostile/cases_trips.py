"""Hostile trip feeds for the carbon-inclusion ``trips`` import (issue 15).

The base workspace (``seed`` in ``tests/integration/test_hostile_corpus.py``) runs the
programme on ``shenzhen-transit`` (``esgledger inclusion use``), so a trips file can name
its modes (``metro``, ``bus_electric``) and get past the mode check to the rule under test.
Every refused case must end in exit 2 with the file, row and column named, and write
nothing (no batch, no account, no lake or origin–destination file); the raw account id is
never echoed (it is replaced by a pseudonym on reading).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from hostile._corpus import Case, bytes_file, text_file
from hostile.cases_readers import _row, sheet_xml, xlsx_file

TRIP_HEADER = (
    "trip_id,account,operator,mode,start_time,end_time,origin,destination,distance_km,channel"
)
TRIP_HEADER_ZH = "行程编号,账户,运营商,出行方式,开始时间,结束时间,起点,终点,距离（公里）,渠道"
RAW = "RAWCARD-0000-1111"


def trip_row(
    trip_id: str = "T1",
    *,
    account: str = RAW,
    operator: str = "SZMC",
    mode: str = "metro",
    start: str = "2024-05-01T08:00:00+08:00",
    end: str = "2024-05-01T08:30:00+08:00",
    origin: str = "Futian",
    destination: str = "Luohu",
    km: str = "12",
    channel: str = "card",
) -> str:
    """One CSV line of a trips file (values written as given: no quoting)."""
    return ",".join(
        [trip_id, account, operator, mode, start, end, origin, destination, km, channel]
    )


def trips(*rows: str, name: str = "trips.csv", header: str = TRIP_HEADER) -> Callable[[Path], Path]:
    """A trips CSV with the header and ``rows``."""
    return text_file(name, "\n".join([header, *rows]) + "\n")


def _long_line(folder: Path) -> Path:
    """A trips file whose one distance is a line of 10 MB."""
    path = folder / "long-line.csv"
    path.write_text(f"{TRIP_HEADER}\n{trip_row(km='9' * 10_000_000)}\n")
    return path


def _trip_rows_bomb(count: int) -> Callable[[], Iterable[bytes]]:
    """The trips header, one trip, then ``count`` empty rows: highly compressible XML."""

    def chunks() -> Iterable[bytes]:
        def body() -> Iterable[str]:
            yield _row(1, TRIP_HEADER.split(","))
            yield _row(2, trip_row().split(","))
            for start in range(3, count + 3, 10_000):
                yield "".join("<row/>" for _ in range(min(10_000, count + 3 - start)))

        return sheet_xml(body())

    return chunks


def _not_a_zip(folder: Path) -> Path:
    path = folder / "trips.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("hello.txt", "not a workbook")
    return path


CASES: list[Case] = [
    # -- the control cases: a clean file lands (CSV, Chinese headers in GB18030, BOM)
    Case("trips-valid-file-lands", trips(trip_row()), kind="trips", expect=0),
    Case(
        "trips-chinese-headers-gb18030-land",
        text_file(
            "trips-gb.csv",
            f"{TRIP_HEADER_ZH}\n{trip_row(origin='福田', destination='罗湖')}\n",
            encoding="gb18030",
        ),
        kind="trips",
        expect=0,
    ),
    Case(
        "trips-utf8-bom-lands",
        bytes_file("bom.csv", ("\ufeff" + TRIP_HEADER + "\n" + trip_row() + "\n").encode()),
        kind="trips",
        expect=0,
    ),
    # -- empty and wrong shapes
    Case("trips-empty-file", text_file("trips.csv", ""), kind="trips", says="empty"),
    Case("trips-header-only", trips(), kind="trips", says="no data rows"),
    Case(
        "trips-wrong-header",
        text_file("trips.csv", "id,who,when\nT1,A,2024-05-01\n"),
        kind="trips",
        says="required column is missing",
        hides=RAW,
    ),
    # -- hostile values
    # a formula-like id lands as data, like every imported text (exports neutralise
    # formulas: tests/integration/test_formula_injection.py); an account is pseudonymised
    Case(
        "trips-formula-trip-id-lands-as-data",
        trips(trip_row(trip_id='=HYPERLINK("http://evil";"x")')),
        kind="trips",
        expect=0,
    ),
    Case(
        "trips-formula-account-lands-pseudonymised",
        trips(trip_row(account="+cmd|' /C calc'!A0")),
        kind="trips",
        expect=0,
        hides="calc",
    ),
    Case("trips-10-mb-line", _long_line, kind="trips", says="ESGLEDGER_MAX_CSV_LINE_BYTES"),
    Case("trips-nul-in-trip-id", trips(trip_row(trip_id="T\x001")), kind="trips", says="NUL"),
    Case(
        "trips-bidi-override-in-operator",
        trips(trip_row(operator="SZ\u202eCM")),
        kind="trips",
        says="operator",
        hides=RAW,
    ),
    Case(
        "trips-distance-1e999",
        trips(trip_row(km="1e999")),
        kind="trips",
        says="distance_km",
        hides=RAW,
    ),
    Case("trips-distance-nan", trips(trip_row(km="NaN")), kind="trips", says="distance_km"),
    Case("trips-distance-negative", trips(trip_row(km="-3")), kind="trips", says="distance_km"),
    Case(
        "trips-year-99999",
        trips(trip_row(start="99999-05-01T08:00:00+08:00")),
        kind="trips",
        says="start_time",
        hides=RAW,
    ),
    Case(
        "trips-end-before-start",
        trips(trip_row(end="2024-05-01T07:00:00+08:00")),
        kind="trips",
        says="column 'end_time': the trip ends before it starts",
        hides=RAW,
    ),
    Case("trips-unknown-mode", trips(trip_row(mode="rocket")), kind="trips", says="mode"),
    Case(
        "trips-duplicate-key-in-one-file",
        trips(
            trip_row("T1"),
            trip_row("T1", start="2024-05-01T09:00:00+08:00", end="2024-05-01T09:30:00+08:00"),
        ),
        kind="trips",
        says="T1",
        hides=RAW,
    ),
    Case(
        "trips-not-utf8-nor-gb18030",
        bytes_file("bin.csv", TRIP_HEADER.encode() + b"\n\xff\xfe\x00\x81\x00\n"),
        kind="trips",
    ),
    # -- workbooks
    Case(
        "trips-xlsx-zip-bomb",
        xlsx_file("trips-bomb.xlsx", _trip_rows_bomb(4_000_000), level=9),
        kind="trips",
        says="a zip bomb",
        isolated=True,
    ),
    Case("trips-xlsx-not-a-workbook", _not_a_zip, kind="trips"),
]
