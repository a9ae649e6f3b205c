"""SQL text shared by the lake importers that check a file in DuckDB (readings, trips).

导入检查用的 SQL 片段（DuckDB）。

* :func:`sql_literal` and :func:`sql_ident` quote a string literal and an identifier;
* :data:`OFFSET_RE` and :data:`VALID_OFFSET_RE` tell an ISO 8601 text with an offset from a
  local time, and an offset that exists from one that does not;
* :data:`FIRST_INSTANT` and :data:`END_INSTANT` bound the instants an import accepts;
* :func:`instant_sql` types a column as a UTC instant (naive TIMESTAMP) in one expression.

The callers' messages (which zone a local time is read in) stay with them.
"""

from __future__ import annotations

__all__ = [
    "END_INSTANT",
    "FIRST_INSTANT",
    "OFFSET_RE",
    "VALID_OFFSET_RE",
    "instant_sql",
    "sql_ident",
    "sql_literal",
]

#: A text with an offset after its time of day (a date alone, ``2024-01-01``, is a local date,
#: not a date with the offset ``-01``).
OFFSET_RE = r":[0-9]{2}(\.[0-9]+)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: The offsets that exist: UTC-14:00 to UTC+14:00 (DuckDB would read +25:00 as 25 hours).
VALID_OFFSET_RE = r"(Z|z|[+-]((0[0-9]|1[0-3])(:?[0-5][0-9])?|14(:?00)?))$"
#: Instants outside these are refused (a year such as 99999 is no time of a record, and
#: cannot be shown as a Python datetime): from the first, before the end.
FIRST_INSTANT, END_INSTANT = "1900-01-01", "2200-01-01"


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def instant_sql(ref: str, type_: str, zone_sql: str) -> str:
    """SQL: the UTC instant (naive TIMESTAMP) of the column ``ref`` (an SQL reference) of
    DuckDB type ``type_``, NULL when it is not one.

    A TIMESTAMP WITH TIME ZONE is an instant; a TIMESTAMP or DATE is a local time in the
    zone ``zone_sql`` (an SQL expression: a literal or a joined column); a text with an
    offset (:data:`OFFSET_RE`) is an instant when the offset exists
    (:data:`VALID_OFFSET_RE`; else NULL), without one a local time in ``zone_sql``.

    An instant's UTC wall time is its microseconds since the epoch: no time-zone lookup per
    row (``timezone('UTC', ...)`` asks ICU, several times slower); the infinities have no
    epoch and keep their meaning (outside the years allowed).
    """
    if type_.startswith("TIMESTAMP WITH TIME ZONE"):
        return (
            f"CASE WHEN isfinite({ref}) THEN make_timestamp(epoch_us({ref})) "
            f"ELSE timezone('UTC', {ref}) END"
        )
    if type_.startswith("TIMESTAMP") or type_ == "DATE":
        return f"timezone('UTC', timezone({zone_sql}, CAST({ref} AS TIMESTAMP)))"
    text = f"trim(CAST({ref} AS VARCHAR))"
    return (
        f"CASE WHEN regexp_matches({text}, '{OFFSET_RE}') "
        f"THEN CASE WHEN regexp_matches({text}, '{VALID_OFFSET_RE}') "
        f"THEN make_timestamp(epoch_us(TRY_CAST({text} AS TIMESTAMPTZ))) END "
        f"ELSE timezone('UTC', timezone({zone_sql}, TRY_CAST({text} AS TIMESTAMP))) END"
    )
