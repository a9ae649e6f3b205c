"""The factor library: every emission factor a workspace can use, as one Arrow table.

The library holds the shipped official sets (``esgledger/data/factors/<set>.csv`` with their
``.meta.json``) and the workspace's own user sets (imported with
``esgledger import WS --kind factors FILE`` and stored in the workspace database), all in the
tidy schema of ``esgledger/schema/factor_columns.csv``, plus one metadata record per set
(id, name, source, edition, licence, attribution, precedence, rows, shipped).

An override never changes a shipped factor. A user factor is a new row in a user set whose
**precedence** (100 and above; shipped sets are 0) makes it win over a shipped factor at equal
tier and vintage (see :mod:`esgledger.factors.resolve`). A user factor may therefore not reuse
a shipped ``factor_id``: :meth:`FactorLibrary.conflicting_ids` tells the importer which ids
clash, and :meth:`FactorLibrary.with_user_sets` refuses them.

>>> from esgledger.factors.library import FactorLibrary
>>> library = FactorLibrary.shipped()
>>> library.get("cn-mee:location:CN-GD:2023")["co2_kg"]
0.4419
>>> [s["id"] for s in library.sets()][:2]
['cn-mee', 'desnz-2024']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from esgledger.errors import FactorNotFoundError, InputError, Issue, close_matches
from esgledger.factors.sources._common import (
    FACTOR_COLUMNS,
    factor_schema,
    read_shipped_set,
    shipped_set_ids,
    shipped_set_meta,
    tidy_table,
)
from esgledger.taxonomy import Taxonomy

if TYPE_CHECKING:
    from esgledger.store import Workspace

__all__ = [
    "SET_FIELDS",
    "SHIPPED_PRECEDENCE",
    "USER_PRECEDENCE",
    "FactorLibrary",
    "conflicting_ids",
]

#: Precedence of every shipped set.
SHIPPED_PRECEDENCE = 0
#: Lowest precedence of a user set; user sets always win over shipped ones at equal tier
#: and vintage.
USER_PRECEDENCE = 100
#: The keys of a set's metadata record, as :meth:`FactorLibrary.sets` returns them.
SET_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "source",
    "edition",
    "licence",
    "attribution",
    "precedence",
    "rows",
    "shipped",
)
_SEARCH_SEP = "\x1f"


def _shipped_set_record(set_id: str, rows: int) -> dict[str, Any]:
    meta = shipped_set_meta(set_id)
    return {
        "id": set_id,
        "name": meta.get("name") or meta.get("source") or set_id,
        "source": meta.get("source"),
        "edition": meta.get("edition"),
        "licence": meta.get("licence"),
        "attribution": meta.get("attribution"),
        "precedence": SHIPPED_PRECEDENCE,
        "rows": rows,
        "shipped": True,
    }


def _distinct_text(values: Iterable[Any]) -> str | None:
    """The distinct non-empty values joined by ``"; "`` in order of frequency, or None."""
    counts = Counter(str(v) for v in values if v not in (None, ""))
    if not counts:
        return None
    return "; ".join(value for value, _ in counts.most_common())


class FactorLibrary:
    """All factors (shipped and user sets) as one Arrow table, plus their set metadata.

    Build it with :meth:`shipped`, :meth:`for_workspace`, :meth:`with_user_sets` or, for
    tests and scripts, :meth:`from_rows`. The library is immutable: every ``with_*`` method
    returns a new one.

    Parameters
    ----------
    table
        Factors in the tidy schema (``esgledger/schema/factor_columns.csv``).
    sets
        One record per set with at least ``id``; ``precedence`` defaults to 0, ``shipped`` to
        False, ``name`` to the id, and ``source``, ``edition``, ``licence``, ``attribution``
        to the distinct values of the set's factors.
    taxonomy
        The activity taxonomy used by :meth:`search` to match activity names (English and
        Chinese); the shipped taxonomy by default.

    Raises
    ------
    ValueError
        If a factor's set has no record, or a ``factor_id`` occurs twice.
    """

    def __init__(
        self,
        table: pa.Table,
        sets: Sequence[Mapping[str, Any]],
        *,
        taxonomy: Taxonomy | None = None,
    ):
        table = table.select(list(FACTOR_COLUMNS)).cast(factor_schema())
        self._table: pa.Table = table
        self.taxonomy: Taxonomy = taxonomy if taxonomy is not None else Taxonomy.shipped()
        ids = table.column("factor_id").to_pylist()
        self._index: dict[str, int] = {}
        duplicates: list[str] = []
        for position, factor_id in enumerate(ids):
            if factor_id in self._index:
                duplicates.append(factor_id)
            self._index[factor_id] = position
        if duplicates:
            raise ValueError(f"factor ids occur more than once: {sorted(set(duplicates))[:10]}")
        set_column = table.column("factor_set").to_pylist()
        row_counts = Counter(set_column)
        self._sets: dict[str, dict[str, Any]] = {}
        for record in sets:
            set_id = str(record["id"])
            if set_id in self._sets:
                raise ValueError(f"factor set {set_id!r} is declared twice")
            self._sets[set_id] = {
                "id": set_id,
                "name": record.get("name") or set_id,
                "source": record.get("source"),
                "edition": record.get("edition"),
                "licence": record.get("licence"),
                "attribution": record.get("attribution"),
                "precedence": int(record.get("precedence") or 0),
                "rows": row_counts.get(set_id, 0),
                "shipped": bool(record.get("shipped", False)),
            }
        unknown = sorted(set(row_counts) - set(self._sets))
        if unknown:
            raise ValueError(f"factors name factor sets that have no record: {unknown}")
        missing = [
            s["id"]
            for s in self._sets.values()
            if any(s[key] is None for key in ("source", "edition", "licence", "attribution"))
        ]
        if missing:
            self._fill_set_texts(missing, set_column)
        self._shipped_ids: frozenset[str] | None = None
        self._by_activity: dict[str, tuple[dict[str, Any], ...]] | None = None
        self._haystack: pa.Array | None = None

    def _fill_set_texts(self, set_ids: Sequence[str], set_column: Sequence[str]) -> None:
        """Fill a set's missing source/edition/licence/attribution from its factors."""
        wanted = set(set_ids)
        columns = {
            key: self._table.column(key).to_pylist()
            for key in ("source", "edition", "licence", "attribution")
        }
        for set_id in wanted:
            positions = [i for i, s in enumerate(set_column) if s == set_id]
            record = self._sets[set_id]
            for key, values in columns.items():
                if record[key] is None:
                    record[key] = _distinct_text(values[i] for i in positions)

    # ---- construction -----------------------------------------------------------------

    @classmethod
    def shipped(cls) -> FactorLibrary:
        """The shipped official sets (loaded once per process and cached)."""
        return _shipped_library()

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, Any]],
        sets: Sequence[Mapping[str, Any]] = (),
        *,
        taxonomy: Taxonomy | None = None,
    ) -> FactorLibrary:
        """A library built from factor dicts (missing columns are null).

        Sets named by the rows but absent from ``sets`` get precedence 0 and
        ``shipped=False``.
        """
        table = tidy_table(rows)
        declared = {str(s["id"]) for s in sets}
        extra = [
            {"id": set_id}
            for set_id in dict.fromkeys(table.column("factor_set").to_pylist())
            if set_id not in declared
        ]
        return cls(table, [*sets, *extra], taxonomy=taxonomy)

    def with_user_sets(
        self,
        sets: Sequence[Mapping[str, Any]],
        factors: Iterable[Mapping[str, Any]],
        *,
        taxonomy: Taxonomy | None = None,
    ) -> FactorLibrary:
        """This library plus user factor sets.

        Parameters
        ----------
        sets
            Records as :func:`esgledger.store.repository.load_factor_sets` returns them
            (``id``, ``name``, ``precedence``, ...).
        factors
            Factor records as :func:`esgledger.store.repository.load_factors` returns them;
            only the columns of the tidy schema are kept.
        taxonomy
            The taxonomy of the new library (default: this library's).

        Raises
        ------
        InputError
            If a user factor reuses the id of a factor already in the library (an override
            is a new factor in a set of higher precedence, never an edit of a shipped one),
            or a user set reuses a set id already in the library.
        """
        rows = [{key: row.get(key) for key in FACTOR_COLUMNS} for row in factors]
        clashes = set(self.conflicting_ids(str(row["factor_id"]) for row in rows))
        issues = [
            Issue(
                file=str(row["factor_set"]),
                row=None,
                column="factor_id",
                value=str(row["factor_id"]),
                problem="the id of a factor already in the library (an override is a new "
                "factor with its own id, in a set of higher precedence)",
                fix="give the factor an id of your own, e.g. prefixed by your set's id",
            )
            for row in rows
            if row["factor_id"] in clashes
        ]
        set_clashes = sorted({str(s["id"]) for s in sets} & set(self._sets))
        issues += [
            Issue(
                file=set_id,
                row=None,
                column="factor_set",
                value=set_id,
                problem="a factor set with this id is already in the library",
                fix="choose another set id",
            )
            for set_id in set_clashes
        ]
        if issues:
            raise InputError("user factor sets conflict with the factor library", issues)
        records = [
            {
                **s,
                "precedence": USER_PRECEDENCE
                if s.get("precedence") is None
                else int(s["precedence"]),
                "shipped": False,
            }
            for s in sets
        ]
        table = pa.concat_tables([self._table, tidy_table(rows)])
        return FactorLibrary(
            table,
            [*self._sets.values(), *records],
            taxonomy=taxonomy if taxonomy is not None else self.taxonomy,
        )

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> FactorLibrary:
        """The shipped sets plus the workspace's user sets (and its taxonomy, for search)."""
        from esgledger.store.repository import load_factor_sets, load_factors

        with workspace.session() as session:
            sets = load_factor_sets(session)
            factors = load_factors(session)
        return cls.shipped().with_user_sets(
            sets, factors, taxonomy=Taxonomy.for_workspace(workspace)
        )

    # ---- queries ----------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def __contains__(self, factor_id: object) -> bool:
        return isinstance(factor_id, str) and factor_id in self._index

    def as_arrow(self) -> pa.Table:
        """Every factor in the tidy schema, for engines to join on ``factor_id``."""
        return self._table

    def sets(self) -> list[dict[str, Any]]:
        """One metadata record per set (keys :data:`SET_FIELDS`): shipped sets by id, then
        user sets by descending precedence and id."""
        return [
            dict(record)
            for record in sorted(
                self._sets.values(),
                key=lambda s: (not s["shipped"], -s["precedence"], s["id"]),
            )
        ]

    def set_info(self, set_id: str) -> dict[str, Any]:
        """The metadata record of one set.

        Raises
        ------
        KeyError
            If no set has this id.
        """
        try:
            return dict(self._sets[set_id])
        except KeyError:
            raise KeyError(f"no factor set {set_id!r}") from None

    def precedence_of(self, set_id: str) -> int:
        """The precedence of a set (higher wins at equal tier and vintage)."""
        return int(self._sets[set_id]["precedence"])

    def is_shipped_set(self, set_id: str) -> bool:
        return bool(self._sets[set_id]["shipped"])

    def conflicting_ids(self, ids: Iterable[str]) -> list[str]:
        """The ids among ``ids`` already used by a factor of this library, sorted.

        The importer of user factor sets calls this (on :meth:`shipped`, or on the
        workspace's library without the set being replaced) and rejects the file if the
        list is not empty.
        """
        return sorted({i for i in ids if i in self._index})

    def get(self, factor_id: str) -> dict[str, Any]:
        """One factor as a dict of the tidy columns.

        Raises
        ------
        FactorNotFoundError
            If no factor has this id; the message suggests close ids.
        """
        position = self._index.get(factor_id)
        if position is None:
            close = close_matches(factor_id, list(self._index), n=3, cutoff=0.75)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise FactorNotFoundError(
                f"no factor with id {factor_id!r}{hint} "
                "(`esgledger factors search TEXT` finds factors)",
                activity="",
                tried=tuple(close),
            )
        row: dict[str, Any] = self._table.slice(position, 1).to_pylist()[0]
        return row

    def by_activity(self, activity: str) -> tuple[dict[str, Any], ...]:
        """The factors filed under one activity key, as dicts (do not modify them)."""
        if self._by_activity is None:
            index: dict[str, list[dict[str, Any]]] = {}
            for row in self._table.to_pylist():
                index.setdefault(row["activity"], []).append(row)
            self._by_activity = {key: tuple(rows) for key, rows in index.items()}
        return self._by_activity.get(activity, ())

    def filter(
        self,
        *,
        activity: str | None = None,
        region: str | None = None,
        year: int | None = None,
        source: str | None = None,
        factor_set: str | None = None,
        method: str | None = None,
    ) -> pa.Table:
        """The factors matching every given criterion, in library order.

        Parameters
        ----------
        activity
            An activity key; a key ending in ``*`` matches by prefix (``refrigerant.*``).
        region
            A region code (case-insensitive), matched exactly (no fallback chain).
        year
            The vintage.
        source
            A set id, or text found (case-insensitively) in the ``source`` column.
        factor_set
            A set id, exactly.
        method
            A method (``location``, ``fuel``, ``spend`` ...).
        """
        table = self._table
        mask = pa.array([True] * table.num_rows, pa.bool_())
        if activity is not None:
            if activity.endswith("*"):
                cond = pc.starts_with(table.column("activity"), activity[:-1])
            else:
                cond = pc.equal(table.column("activity"), activity)
            mask = pc.and_kleene(mask, cond)
        if region is not None:
            mask = pc.and_kleene(mask, pc.equal(table.column("region"), region.upper()))
        if year is not None:
            mask = pc.and_kleene(mask, pc.equal(table.column("year"), year))
        if factor_set is not None:
            mask = pc.and_kleene(mask, pc.equal(table.column("factor_set"), factor_set))
        if source is not None:
            cond = pc.or_kleene(
                pc.equal(table.column("factor_set"), source),
                pc.match_substring(table.column("source"), source, ignore_case=True),
            )
            mask = pc.and_kleene(mask, cond)
        if method is not None:
            mask = pc.and_kleene(mask, pc.equal(table.column("method"), method))
        return table.filter(pc.fill_null(mask, False))

    def search(self, text: str) -> pa.Table:
        """Factors whose id, activity, activity name (English or Chinese), description,
        source, set or region contain every whitespace-separated word of ``text``
        (case-insensitive), in library order."""
        haystack = self._search_haystack()
        mask = pa.array([True] * self._table.num_rows, pa.bool_())
        for word in text.split():
            mask = pc.and_(mask, pc.match_substring(haystack, word, ignore_case=True))
        return self._table.filter(mask)

    def _search_haystack(self) -> pa.Array:
        if self._haystack is None:
            names = self._activity_names()
            activity_names = pa.array(
                [names.get(a, "") for a in self._table.column("activity").to_pylist()],
                pa.string(),
            )
            parts = [
                pc.fill_null(self._table.column(key), "")
                for key in ("factor_id", "activity", "description", "source", "factor_set")
            ]
            parts += [pc.fill_null(self._table.column("region"), ""), activity_names]
            self._haystack = pc.binary_join_element_wise(*parts, _SEARCH_SEP)
        return self._haystack

    def _activity_names(self) -> dict[str, str]:
        """English and Chinese names of every activity key in the library: of each type filed
        under the key (``electricity`` also matches 租赁资产用电), or of its family."""
        by_factor_activity: dict[str, list[str]] = {}
        for activity_type in self.taxonomy:
            if not activity_type.is_family:
                by_factor_activity.setdefault(activity_type.factor_activity, []).extend(
                    (activity_type.name, activity_type.name_zh)
                )
        out: dict[str, str] = {}
        for key in pc.unique(self._table.column("activity")).to_pylist():
            names = list(by_factor_activity.get(key, []))
            family = self.taxonomy.family_of(key)
            if family is not None:
                names += [family.name, family.name_zh]
            out[key] = _SEARCH_SEP.join(names)
        return out


@cache
def _shipped_library() -> FactorLibrary:
    set_ids = shipped_set_ids()
    tables = [read_shipped_set(set_id) for set_id in set_ids]
    records = [
        _shipped_set_record(set_id, t.num_rows) for set_id, t in zip(set_ids, tables, strict=True)
    ]
    return FactorLibrary(pa.concat_tables(tables), records)


def conflicting_ids(ids: Iterable[str]) -> list[str]:
    """The ids among ``ids`` that a shipped factor already uses, sorted: a user factor file
    containing any of them must be rejected (see :meth:`FactorLibrary.conflicting_ids`)."""
    return FactorLibrary.shipped().conflicting_ids(ids)
