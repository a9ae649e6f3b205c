"""The one JSON serialiser of the faces' contracts.

A domain's contract builder (``inventory.service.inventory_view``, the targets views ...)
returns JSON-native data through :func:`jsonable`; the CLI prints it with :func:`dumps` and the
server answers with it as it is (FastAPI's ``JSONResponse`` renders the same values). One set
of options everywhere: dataclasses and mappings as objects with text keys, enums as their
value, tuples and sets as arrays, dates as ISO 8601 text, Arrow tables as arrays of objects,
and non-finite floats as ``null`` (JSON has no NaN; ``dumps`` refuses one that slipped by).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

import pyarrow as pa

__all__ = ["dumps", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses and mappings as dicts, enums as their value,
    tuples as lists, dates as ISO text, non-finite floats as None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pa.Table):
        return jsonable(value.to_pylist())
    return value


def dumps(value: Any) -> str:
    """``jsonable(value)`` as the CLI prints it: UTF-8 text (no ``\\u`` escapes), indent 2,
    one trailing newline."""
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
