"""The demo group's report read as a person reads it (issue 10 §4, report text).

The demo workspace is built once for the module (without its PDF step) and its report
written as HTML with CSV/XLSX exports. The Chinese edition and its exports must hold no
English word outside the allow-list of ``tests/_zh_english.py``, where the verbatim phrases
are the text the user entered (names, evidence notes, published-history sources), the
catalogue codes, and the titles, editions, licences and attributions of the factor sources
(publications cited in their own language). The English edition must print breakdown labels,
not vocabulary keys, and neither edition may leak internal notes, double the year in the
title, or print a negative gap; exports carry no float noise.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from _zh_english import Finding, english_words, html_text
from esgledger.demo.run import DEMO_STEPS, build_demo
from esgledger.report.builder import build_report
from esgledger.report.vocabulary import breakdowns_table
from esgledger.store import Workspace

pytestmark = pytest.mark.slow

WITHOUT_REPORT = [step for step in DEMO_STEPS if not step[0].startswith("writing the ESG report")]


@dataclass(frozen=True)
class Written:
    out: Path
    html: dict[str, str]
    allowed: tuple[str, ...]


def _verbatim(ws: Workspace) -> list[str]:
    """What the user entered or what names a publication: allowed as written."""
    from esgledger.disclosure import Catalogue
    from esgledger.factors.library import FactorLibrary
    from esgledger.ingest.metrics import workspace_catalogue
    from esgledger.inventory.runs import load_run
    from esgledger.store.repository import load_entities, load_sites
    from esgledger.store.repository_targets import load_emissions_history, load_metric_values

    phrases: list[str] = []
    with ws.session() as session:
        for row in load_metric_values(session):
            phrases += [str(row.get("evidence") or ""), str(row.get("notes") or "")]
        for row in load_emissions_history(session):
            phrases.append(str(row.get("source") or ""))
        for row in [*load_entities(session), *load_sites(session)]:
            phrases.append(str(row.get("name") or ""))
    for info in FactorLibrary.for_workspace(ws).sets():
        phrases += [str(info.get(k) or "") for k in ("source", "edition", "licence", "attribution")]
    phrases.append(str(load_run(ws).manifest.get("gwp_source") or ""))
    catalogue: Catalogue = workspace_catalogue(ws)
    phrases += [item.code for item in catalogue]
    return [p for p in phrases if p]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    root = tmp_path_factory.mktemp("demo") / "demo"
    build_demo(root, progress=False, steps=WITHOUT_REPORT)
    ws = Workspace.open(root)
    out = root / "reports" / "2024"
    build_report(ws, out, formats=("html",))
    html = {
        lang: (out / f"esg-report-2024.{lang}.html").read_text("utf-8") for lang in ("en", "zh-CN")
    }
    return Written(out, html, tuple(_verbatim(ws)))


def _report(found: list[Finding]) -> str:
    words = sorted({f.word for f in found})
    return f"{len(found)} English word(s) {words[:40]}:\n" + "\n".join(str(f) for f in found[:40])


def test_the_chinese_report_has_no_english_words(written: Written) -> None:
    found = english_words(html_text(written.html["zh-CN"]), allowed_phrases=written.allowed)
    assert not found, _report(found)


def _cells(path: Path) -> list[str]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            return [cell for row in csv.reader(handle) for cell in row]
    sheet = load_workbook(path).active
    assert sheet is not None
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def test_the_chinese_table_exports_have_no_english_words(written: Written) -> None:
    files = sorted(written.out.glob("*.zh-CN.csv")) + sorted(written.out.glob("*.zh-CN.xlsx"))
    assert len(files) > 20
    found = [
        finding
        for path in files
        for finding in english_words("\n".join(_cells(path)), allowed_phrases=written.allowed)
    ]
    assert not found, _report(found)


def test_the_english_report_prints_breakdown_labels_not_keys(written: Written) -> None:
    text = html_text(written.html["en"])
    keys = [f"{dim}: {value}" for dim, value in breakdowns_table() if "_" in value]
    assert "region: hk_macao_taiwan" in keys  # the check looks for what the issue saw
    assert [key for key in keys if key in text] == []
    assert "region: Hong Kong, Macao and Taiwan" in text
    assert "type: full-time" in text
    assert "measure: rate (%)" in text


def test_no_internal_notes_no_doubled_year_no_negative_gap(written: Written) -> None:
    for lang, html in written.html.items():
        text = html_text(html)
        assert "standards-and-data" not in text, lang
        assert "no longer in the workspace" not in text, lang
        title = re.search(r"<title>([^<]*)</title>", html)
        assert title is not None
        assert title.group(1).count("2024") == 1, title.group(1)
        assert not re.search(r"gap of -\d", text), lang
    assert "t CO2e below the target pathway" in html_text(written.html["en"])
    assert "低于目标路径" in html_text(written.html["zh-CN"])


def test_the_sources_table_names_each_source_once(written: Written) -> None:
    table = re.search(r'<table class="sources">(.*?)</table>', written.html["en"], re.S)
    assert table is not None
    names = re.findall(r"<tr><td>([^<]*)", table.group(1))
    assert names
    assert len(names) == len(set(names)), names
    assert sum("Sixth Assessment Report" in name for name in names) == 1
    # only sources: no synthetic set ids (the GWP set's ipcc-gwp-AR6, reported_emissions)
    assert [n for n in names if n.startswith("ipcc-gwp") or n == "reported_emissions"] == []


def test_exports_carry_no_float_noise(written: Written) -> None:
    noisy = re.compile(r"(?<![\w.-])-?\d+\.\d{5,}(?![\w.])")
    for path in sorted(written.out.glob("*.csv")):
        text = path.read_text(encoding="utf-8-sig")
        assert not noisy.search(text), (path.name, noisy.search(text))
    sheet = load_workbook(written.out / "emissions-by-site.en.xlsx").active
    assert sheet is not None
    numbers = [
        c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, float | int)
    ]
    assert numbers
    assert all(c.number_format == "#,##0" for c in numbers)


def test_the_demo_opts_in_to_its_internet_group_sections(written: Written) -> None:
    for anchor in ("inclusive-technology", "soc-minors", "green-datacentres"):
        assert f'id="{anchor}"' in written.html["en"]
