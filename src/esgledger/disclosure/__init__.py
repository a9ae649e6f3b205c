"""Disclosure: the metric catalogue (HKEX C2, IFRS S2, GRI, company metrics), metric values,
metrics derived from the inventory, year-on-year comparison and the HKEX content index.

信息披露：指标目录（港交所 C2、IFRS S2、GRI、公司自定义指标）、指标数值、由盘查结果计算的
指标、同比比较和港交所内容索引。

Pure domain functions over plain rows and Arrow tables; storage and the CLI call them.
Methodology: ``docs/methodology/disclosure.md``.
"""

from __future__ import annotations

from esgledger.disclosure.catalogue import Catalogue, CatalogueItem, load_catalogue
from esgledger.disclosure.compare import Change, compare_years, intensity, yoy, yoy_intensity
from esgledger.disclosure.content_index import ContentIndex, IndexEntry, content_index
from esgledger.disclosure.derived import Derived, DerivedValue, derive
from esgledger.disclosure.values import parse_breakdown, validate_values, value_columns

__all__ = [
    "Catalogue",
    "CatalogueItem",
    "Change",
    "ContentIndex",
    "Derived",
    "DerivedValue",
    "IndexEntry",
    "compare_years",
    "content_index",
    "derive",
    "intensity",
    "load_catalogue",
    "parse_breakdown",
    "validate_values",
    "value_columns",
    "yoy",
    "yoy_intensity",
]
