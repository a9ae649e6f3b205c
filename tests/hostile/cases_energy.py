"""Hostile files for the energy importers (issue 14): meter trees, readings and weather.

The base workspace (``seed`` in ``tests/integration/test_hostile_corpus.py``) holds the meter
tree of site ``DC-TJ``: ``TJ-IN`` (incomer, kWh counter, the boundary meter) and ``TJ-IT``
(IT input, kWh interval meter under it), so a readings file can name real meters and get
past the meter check to the rule under test; a weather file names site ``DC-TJ`` (its
time zone comes from those meters). Every refused case must end in exit 2 with the file, row
and column named, and write nothing (no batch, no meter, no lake file).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hostile._corpus import Case, bytes_file, text_file

METER_HEADER = "meter,site,parent,role,unit,kind,multiplier"
READING_HEADER = "meter,timestamp,value"
WEATHER_HEADER = "site,timestamp,dry_bulb_c,wet_bulb_c,relative_humidity_pct"


def meters(*rows: str, name: str = "meters.csv") -> Callable[[Path], Path]:
    """A meters CSV with the standard header and ``rows`` (written as given)."""
    return text_file(name, "\n".join([METER_HEADER, *rows]) + "\n")


def readings(*rows: str, name: str = "readings.csv") -> Callable[[Path], Path]:
    """A readings CSV with the standard header and ``rows`` (written as given)."""
    return text_file(name, "\n".join([READING_HEADER, *rows]) + "\n")


def reading(
    value: str = "12.5", *, meter: str = "TJ-IT", ts: str = "2024-01-01T00:15:00+08:00"
) -> str:
    return ",".join([meter, ts, value])


def meter_row(
    meter: str = "TJ-NEW",
    *,
    site: str = "DC-TJ",
    parent: str = "TJ-IN",
    role: str = "cooling",
    unit: str = "kWh",
    kind: str = "interval",
    multiplier: str = "1",
) -> str:
    return ",".join([meter, site, parent, role, unit, kind, multiplier])


def weather(*rows: str, name: str = "weather.csv") -> Callable[[Path], Path]:
    """A weather CSV with the standard header and ``rows`` (written as given)."""
    return text_file(name, "\n".join([WEATHER_HEADER, *rows]) + "\n")


def weather_row(
    dry: str = "12.5",
    wet: str = "",
    rh: str = "60",
    *,
    site: str = "DC-TJ",
    ts: str = "2024-01-01T01:00:00+08:00",
) -> str:
    return ",".join([site, ts, dry, wet, rh])


def _weather_long_line(folder: Path) -> Path:
    """A weather file whose one dry bulb is a line of 10 MB."""
    path = folder / "weather-long-line.csv"
    path.write_text(f"{WEATHER_HEADER}\nDC-TJ,2024-01-01T01:00:00+08:00,{'1' * 10_000_000},,60\n")
    return path


def _weather_xlsx(name: str, rows: list[list[object]]) -> Callable[[Path], Path]:
    """A weather workbook (English headers) with ``rows`` typed into its first sheet."""

    def build(folder: Path) -> Path:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(WEATHER_HEADER.split(","))
        for row in rows:
            sheet.append(row)
        path = folder / name
        book.save(path)
        return path

    return build


_GB18030_WEATHER = "站点,时间,干球温度,相对湿度\nDC-TJ,2024-01-01T01:00:00+08:00,１２.５,60\n"


def parquet_readings(name: str, columns: Callable[[], dict[str, object]]) -> Callable[[Path], Path]:
    """A builder of a readings Parquet file from ``columns()`` (pyarrow arrays or lists)."""

    def build(folder: Path) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = folder / name
        pq.write_table(pa.table(columns()), path)
        return path

    return build


def _integer_timestamps() -> dict[str, object]:
    import pyarrow as pa

    return {
        "meter": ["TJ-IT", "TJ-IT"],
        "timestamp": pa.array([1704039300, 1704040200], pa.int64()),  # epoch seconds
        "value": [12.5, 13.0],
    }


def _valid_parquet() -> dict[str, object]:
    import datetime as dt

    import pyarrow as pa

    first = dt.datetime(2024, 1, 1, 0, 15, tzinfo=dt.UTC)
    return {
        "meter": ["TJ-IT", "TJ-IT"],
        "timestamp": pa.array(
            [first, first + dt.timedelta(minutes=15)],
            pa.timestamp("us", tz="UTC"),
        ),
        "value": [12.5, 13.0],
    }


def _year_9000() -> dict[str, object]:
    import datetime as dt

    import pyarrow as pa

    return {
        "meter": ["TJ-IT"],
        "timestamp": pa.array([dt.datetime(9000, 1, 1)], pa.timestamp("us")),
        "value": [1.0],
    }


def _broken_parquet(folder: Path) -> Path:
    """A real Parquet file cut in half (the footer is gone)."""
    path = parquet_readings("whole.parquet", _valid_parquet)(folder)
    data = path.read_bytes()
    path.unlink()
    broken = folder / "broken.parquet"
    broken.write_bytes(data[: len(data) // 2])
    return broken


def _long_line(folder: Path) -> Path:
    """A readings file whose one value is a line of 10 MB."""
    path = folder / "long-line.csv"
    path.write_text(f"{READING_HEADER}\nTJ-IT,2024-01-01T00:15:00+08:00,{'9' * 10_000_000}\n")
    return path


_CYCLE = (
    meter_row("TJ-A", parent="TJ-B", role="other"),
    meter_row("TJ-B", parent="TJ-A", role="other"),
)
_GB18030_METERS = (
    "计量表,站点,上级计量表,角色,单位,读数类型\nTJ-CRAC,天津,TJ-IN,cooling,kWh,interval\n"
)
_GB18030_READINGS = "计量表,时间,读数\nTJ-IT,2024-01-01T00:15:00+08:00,１２.５\n"


CASES: list[Case] = [
    # -- the control cases: a clean file of each kind lands
    Case("energy-meters-valid-file-lands", meters(meter_row()), kind="meters", expect=0),
    Case("energy-readings-valid-file-lands", readings(reading()), kind="readings", expect=0),
    Case(
        "energy-readings-parquet-lands",
        parquet_readings("readings.parquet", _valid_parquet),
        kind="readings",
        expect=0,
    ),
    Case(
        "energy-readings-utf8-bom-lands",
        bytes_file("bom.csv", ("\ufeff" + READING_HEADER + "\n" + reading() + "\n").encode()),
        kind="readings",
        expect=0,
    ),
    # -- empty and wrong shapes
    Case("energy-meters-empty-file", text_file("meters.csv", ""), kind="meters", says="empty"),
    Case(
        "energy-readings-empty-file", text_file("readings.csv", ""), kind="readings", says="empty"
    ),
    Case("energy-meters-header-only", meters(), kind="meters", says="no data rows"),
    Case("energy-readings-header-only", readings(), kind="readings", says="no data rows"),
    Case(
        "energy-meters-wrong-header",
        text_file("meters.csv", "id,place,what\nTJ-X,DC-TJ,cooling\n"),
        kind="meters",
        says="row 1, column 'kind': required column is missing",
    ),
    Case(
        "energy-readings-wrong-header",
        text_file("readings.csv", "sensor,when,reading_kw\nTJ-IT,2024-01-01,1\n"),
        kind="readings",
        says="row 1, column 'value': required column is missing",
    ),
    # -- encodings: GB18030 with Chinese headers, a full-width number, an unknown site
    Case(
        "energy-meters-gb18030-unknown-site",
        bytes_file("meters-gb.csv", _GB18030_METERS.encode("gb18030")),
        kind="meters",
        says="row 2, column 'site': unknown site (value: '天津')",
    ),
    Case(
        "energy-readings-gb18030-fullwidth-number",
        bytes_file("readings-gb.csv", _GB18030_READINGS.encode("gb18030")),
        kind="readings",
        says="row 2, column 'value': not a number",
    ),
    # -- formulas, NUL and control characters in codes
    Case(
        "energy-readings-formula-meter",
        readings(reading(meter='=HYPERLINK("http://evil.example";"x")')),
        kind="readings",
        says="row 2, column 'meter': unknown meter",
    ),
    # a formula-like id lands as data, like every imported text (exports neutralise
    # formulas: cases_outputs, tests/integration/test_formula_injection.py)
    Case(
        "energy-meters-formula-meter-id-lands-as-data",
        meters(meter_row("=1+2")),
        kind="meters",
        expect=0,
    ),
    Case(
        "energy-meters-nul-in-meter",
        meters(meter_row("TJ\x00X")),
        kind="meters",
        says="meter",
    ),
    Case(
        "energy-meters-control-char-in-meter",
        meters(meter_row("TJ\x1bX")),
        kind="meters",
        says="meter",
    ),
    Case(
        "energy-readings-nul-in-meter",
        readings(reading(meter="TJ-IT\x00")),
        kind="readings",
        says="NUL byte",
    ),
    Case(
        "energy-readings-control-char-in-meter",
        readings(reading(meter="TJ\x07IT")),
        kind="readings",
        says="control characters",
    ),
    # -- sizes and numbers
    Case("energy-readings-10mb-line", _long_line, kind="readings", says="longer than"),
    Case(
        "energy-readings-huge-number",
        readings(reading("1e300")),
        kind="readings",
        says="row 2, column 'value': not a finite number",
    ),
    Case(
        "energy-readings-1e999",
        readings(reading("1e999")),
        kind="readings",
        says="row 2, column 'value': not a finite number",
    ),
    Case(
        "energy-readings-nan",
        readings(reading("NaN")),
        kind="readings",
        says="row 2, column 'value': not a number",
    ),
    Case(
        "energy-readings-inf",
        readings(reading("inf")),
        kind="readings",
        says="row 2, column 'value': not a number",
    ),
    Case(
        "energy-readings-minus-inf",
        readings(reading("-Infinity")),
        kind="readings",
        says="row 2, column 'value': not a number",
    ),
    Case(
        "energy-meters-huge-multiplier",
        meters(meter_row(multiplier="1e300")),
        kind="meters",
        says="row 2, column 'multiplier'",
    ),
    Case(
        "energy-meters-nan-multiplier",
        meters(meter_row(multiplier="nan")),
        kind="meters",
        says="row 2, column 'multiplier': not a finite number",
    ),
    # -- timestamps
    Case(
        "energy-readings-february-30",
        readings(reading(ts="2024-02-30T00:00:00+08:00")),
        kind="readings",
        says="row 2, column 'timestamp': not a timestamp",
    ),
    Case(
        "energy-readings-offset-plus-25h",
        readings(reading(ts="2024-01-01T00:15:00+25:00")),
        kind="readings",
        says="row 2, column 'timestamp': not a timestamp",
    ),
    Case(
        "energy-readings-offset-minus-99h",
        readings(reading(ts="2024-01-01T00:15:00-99:00")),
        kind="readings",
        says="row 2, column 'timestamp': not a timestamp",
    ),
    Case(
        "energy-readings-year-99999",
        readings(reading(ts="99999-01-01T00:00:00+08:00")),
        kind="readings",
        says="row 2, column 'timestamp': a timestamp outside the years 1900",
    ),
    Case(
        "energy-readings-parquet-year-9000",
        parquet_readings("year-9000.parquet", _year_9000),
        kind="readings",
        says="row 1, column 'timestamp': a timestamp outside the years",
    ),
    Case(
        "energy-readings-same-instant-twice",
        readings(reading(), reading("13", ts="2024-01-01T00:15:00+08:00")),
        kind="readings",
        says="row 3, column 'timestamp': meter TJ-IT has another",
    ),
    # -- meters that are not there, or too long to be one
    Case(
        "energy-readings-unknown-meter",
        readings(reading(meter="TJ-NOPE")),
        kind="readings",
        says="row 2, column 'meter': unknown meter (value: 'TJ-NOPE')",
    ),
    Case(
        "energy-readings-10000-char-meter",
        readings(reading(meter="M" * 10_000)),
        kind="readings",
        says="row 2, column 'meter': unknown meter",
    ),
    Case(
        "energy-meters-10000-char-meter",
        meters(meter_row("M" * 10_000)),
        kind="meters",
        says="row 2, column 'meter': the meter id is longer than 100",
    ),
    # -- the tree
    Case(
        "energy-meters-cycle",
        meters(*_CYCLE),
        kind="meters",
        says="column 'parent': the tree has a cycle",
    ),
    Case(
        "energy-meters-self-parent",
        meters(meter_row("TJ-SELF", parent="TJ-SELF")),
        kind="meters",
        says="row 2, column 'parent': the tree has a cycle",
    ),
    Case(
        "energy-meters-parent-on-another-site",
        meters(meter_row("SZ-CRAC", site="HQ-SZ", parent="TJ-IN")),
        kind="meters",
        says="row 2, column 'parent': the parent meter belongs to site DC-TJ",
    ),
    Case(
        "energy-meters-unknown-parent",
        meters(meter_row(parent="TJ-NOPE")),
        kind="meters",
        says="row 2, column 'parent': unknown parent meter",
    ),
    Case(
        "energy-meters-negative-multiplier",
        meters(meter_row(multiplier="-40")),
        kind="meters",
        says="row 2, column 'multiplier': the multiplier must be greater",
    ),
    Case(
        "energy-meters-zero-multiplier",
        meters(meter_row(multiplier="0")),
        kind="meters",
        says="row 2, column 'multiplier': the multiplier must be greater",
    ),
    Case(
        "energy-meters-power-unit-on-counter",
        meters(meter_row(unit="kW", kind="counter")),
        kind="meters",
        says="row 2, column 'kind': a power reading cannot be",
    ),
    Case(
        "energy-meters-mass-unit",
        meters(meter_row(unit="kg")),
        kind="meters",
        says="row 2, column 'unit': not an energy, volume or power unit",
    ),
    Case(
        "energy-meters-water-in-kwh",
        meters(meter_row(role="water", unit="kWh", parent="")),
        kind="meters",
        says="row 2, column 'unit': a water meter reads a volume",
    ),
    # -- Parquet
    Case(
        "energy-readings-broken-parquet",
        _broken_parquet,
        kind="readings",
        says="broken.parquet: damaged file",
    ),
    Case(
        "energy-readings-parquet-integer-timestamp",
        parquet_readings("int-ts.parquet", _integer_timestamps),
        kind="readings",
        says="row 1, column 'timestamp': not a timestamp",
    ),
    # -- weather: the control case, then each rule
    Case("energy-weather-valid-file-lands", weather(weather_row()), kind="weather", expect=0),
    Case(
        "energy-weather-wet-bulb-given-lands",
        weather(weather_row("12.5", "10", "")),
        kind="weather",
        expect=0,
    ),
    Case("energy-weather-empty-file", text_file("weather.csv", ""), kind="weather", says="empty"),
    Case("energy-weather-header-only", weather(), kind="weather", says="no data rows"),
    Case(
        "energy-weather-wrong-header",
        text_file("weather.csv", "place,when,temp\nDC-TJ,2024-01-01,1\n"),
        kind="weather",
        says="weather.csv, row 1, column 'dry_bulb_c': required column is missing",
    ),
    # formulas: in a number column refused, in the site column an unknown site
    Case(
        "energy-weather-formula-dry-bulb",
        weather(weather_row("=1+2")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c': not a number",
    ),
    Case(
        "energy-weather-formula-site",
        weather(weather_row(site='=HYPERLINK("http://evil.example";"x")')),
        kind="weather",
        says="weather.csv, row 2, column 'site': unknown site",
    ),
    Case(
        "energy-weather-xlsx-formula-cell",
        _weather_xlsx(
            "weather-formula.xlsx", [["DC-TJ", "2024-01-01T01:00:00+08:00", "=A1*2", None, 60]]
        ),
        kind="weather",
        says="cell C2 holds a formula without a saved value",
    ),
    # sizes
    Case("energy-weather-10mb-line", _weather_long_line, kind="weather", says="longer than"),
    Case(
        "energy-weather-10000-char-site",
        weather(weather_row(site="S" * 10_000)),
        kind="weather",
        says="weather.csv, row 2, column 'site': unknown site",
    ),
    # encodings
    # GB18030 with Chinese headers and a full-width dry bulb: the weather importer reads
    # numbers by the common grammar (values_guard.parse_number: full-width digits are
    # digits), so it lands; the readings importer refuses the same cell (case above)
    Case(
        "energy-weather-gb18030-fullwidth-number-lands",
        bytes_file("weather-gb.csv", _GB18030_WEATHER.encode("gb18030")),
        kind="weather",
        expect=0,
    ),
    Case(
        "energy-weather-latin1-bytes",
        bytes_file(
            "weather-latin1.csv",
            (WEATHER_HEADER + "\nDC-TJ\xe9\xff,2024-01-01T01:00:00+08:00,12,,60\n").encode(
                "latin-1"
            ),
        ),
        kind="weather",
        says="weather-latin1.csv: not UTF-8 or GB18030 text, at byte",
    ),
    Case(
        "energy-weather-nul-in-site",
        weather(weather_row(site="DC-TJ\x00")),
        kind="weather",
        says="NUL byte",
    ),
    Case(
        "energy-weather-control-char-in-site",
        weather(weather_row(site="DC\x1bTJ")),
        kind="weather",
        says="control characters",
    ),
    # NaN and infinities
    Case(
        "energy-weather-nan-dry-bulb",
        weather(weather_row("NaN")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c'",
    ),
    Case(
        "energy-weather-inf-dry-bulb",
        weather(weather_row("inf")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c'",
    ),
    Case(
        "energy-weather-minus-infinity-wet-bulb",
        weather(weather_row("12", "-Infinity", "")),
        kind="weather",
        says="weather.csv, row 2, column 'wet_bulb_c'",
    ),
    Case(
        "energy-weather-1e999-dry-bulb",
        weather(weather_row("1e999")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c': not a finite number",
    ),
    Case(
        "energy-weather-nan-humidity",
        weather(weather_row(rh="nan")),
        kind="weather",
        says="weather.csv, row 2, column 'relative_humidity_pct'",
    ),
    Case(
        "energy-weather-1e999-humidity",
        weather(weather_row(rh="1e999")),
        kind="weather",
        says="weather.csv, row 2, column 'relative_humidity_pct'",
    ),
    # absurd values
    Case(
        "energy-weather-dry-bulb-above-60",
        weather(weather_row("75")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c'",
    ),
    Case(
        "energy-weather-dry-bulb-in-kelvin",
        weather(weather_row("285.65")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c'",
    ),
    Case(
        "energy-weather-dry-bulb-below-minus-90",
        weather(weather_row("-273.15")),
        kind="weather",
        says="weather.csv, row 2, column 'dry_bulb_c'",
    ),
    Case(
        "energy-weather-wet-bulb-above-dry-bulb",
        weather(weather_row("12", "15", "")),
        kind="weather",
        says="weather.csv, row 2, column 'wet_bulb_c'",
    ),
    Case(
        "energy-weather-humidity-above-100",
        weather(weather_row(rh="140")),
        kind="weather",
        says="weather.csv, row 2, column 'relative_humidity_pct'",
    ),
    Case(
        "energy-weather-negative-humidity",
        weather(weather_row(rh="-5")),
        kind="weather",
        says="weather.csv, row 2, column 'relative_humidity_pct'",
    ),
    Case(
        "energy-weather-humidity-as-fraction-of-1e300",
        weather(weather_row(rh="1e300")),
        kind="weather",
        says="weather.csv, row 2, column 'relative_humidity_pct'",
    ),
    # time and keys
    Case(
        "energy-weather-february-30",
        weather(weather_row(ts="2024-02-30T01:00:00+08:00")),
        kind="weather",
        says="weather.csv, row 2, column 'timestamp'",
    ),
    Case(
        "energy-weather-year-99999",
        weather(weather_row(ts="99999-01-01T00:00:00+08:00")),
        kind="weather",
        says="weather.csv, row 2, column 'timestamp'",
    ),
    Case(
        "energy-weather-same-instant-twice",
        weather(weather_row(), weather_row("13")),
        kind="weather",
        says="weather.csv, row 3, column 'timestamp'",
    ),
    Case(
        "energy-weather-unknown-site",
        weather(weather_row(site="DC-NOPE")),
        kind="weather",
        says="weather.csv, row 2, column 'site': unknown site 'DC-NOPE': it is not imported",
    ),
]
