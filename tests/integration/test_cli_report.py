"""`esgledger report` on a small calculated workspace with report inputs, checked in the PDF.

A SQLite workspace is filled through the real importers (entities, sites, activities with a
scope 3 category 1 and 6 line, a green electricity certificate, typed metric values, company
metrics, published history 2021-2023, a target and a measure) and given the demo group's report
inputs (report.toml, narratives, explanations) plus hourly load and supply files. The CLI
writes the bilingual report once for the module; the PDFs are inspected with poppler:
pages render (pdftoppm), the Chinese edition draws no .notdef glyph, every content-index entry
resolves to a page whose number the index prints, each chart is on its page, and the key
figures of ``esgledger inventory --format json`` appear exactly (t CO2e in whole tonnes with
thousands separators, :func:`esgledger.report.builder.key_figure`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from _inventory_support import (
    activity,
    gec_instrument,
    import_rows,
    new_workspace,
    site,
    user_factor,
    write_csv,
)
from esgledger.cli import app
from esgledger.i18n import ui
from esgledger.report.builder import key_figure

POPPLER = ("pdftoppm", "pdffonts", "pdftotext", "pdfinfo")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in POPPLER),
        reason="poppler-utils (pdftoppm, pdffonts, pdftotext, pdfinfo) is not installed; "
        "run 'bash tools/install-system-packages.sh'",
    ),
]
LANGS = ("en", "zh-CN")
CHARTS = (
    "emissions-by-scope",
    "scope3-by-category",
    "intensity-revenue",
    "intensity-employee",
    "materiality-matrix",
    "re-share",
    "cfe-heatmap",
    "macc",
)


def _hourly_files(folder: Path, year: int) -> None:
    """A year of hours for site DC: a flat 2 MWh load and a solar-shaped clean supply."""
    hours = np.arange(np.datetime64(f"{year}-01-01T00"), np.datetime64(f"{year + 1}-01-01T00"))
    hour_of_day = (hours - hours.astype("datetime64[D]")).astype(int)
    solar = np.clip(np.sin((hour_of_day - 6) / 12 * np.pi), 0, None) * 5.0
    stamps = [str(h).replace("T", " ") + ":00:00" for h in hours]
    write_csv(
        folder / "load.csv",
        [{"site": "DC", "hour": s, "load_mwh": 2.0} for s in stamps],
    )
    write_csv(
        folder / "supply.csv",
        [
            {"site": "DC", "hour": s, "clean_mwh": round(float(v), 6)}
            for s, v in zip(stamps, solar, strict=True)
        ],
    )


def report_workspace(root: Path) -> Path:
    """The small workspace of these tests (calculated), with report inputs; returns its folder."""
    from esgledger.ingest.metrics import import_metric_values, import_metrics
    from esgledger.inventory.engine import calculate

    ws = new_workspace(
        root,
        sites=[site("SZ"), site("DC", type="data_centre")],
        factors=[user_factor("u-paper", "purchased_goods.paper", "kg", 1.2)],
        activities=[
            activity("electricity", 12_000_000, "kWh", site="SZ", region="CN-GD"),
            activity("electricity", 20_000_000, "kWh", site="DC", region="CN-GD"),
            activity("stationary.diesel", 150, "t", site="DC"),
            activity("purchased_goods.paper", 2_500_000, "kg"),
            activity("travel.air.long_haul.economy", 3_000_000, "pkm", region="GB"),
        ],
    )
    try:
        import_rows(ws, "instruments", [gec_instrument("GEC-1", 5_000)])
        import_rows(
            ws,
            "emissions-history",
            [
                {"year": y, "scope": scope, "category": None, "t_co2e": t, "source": "test"}
                for y, s1, s2, s3 in (
                    (2021, 1_000, 25_000, 9_000),
                    (2022, 900, 24_000, 8_500),
                    (2023, 800, 22_000, 8_000),
                )
                for scope, t in (("1", s1), ("2_location", s2), ("2_market", s2), ("3", s3))
            ],
        )
        import_rows(
            ws,
            "targets",
            [
                {
                    "id": "S12-2030",
                    "name": "Scope 1+2 -50 % by 2030",
                    "name_zh": "2030年范围一和二减少50%",
                    "kind": "absolute",
                    "scopes": "1+2",
                    "scope2_method": "market",
                    "base_year": 2021,
                    "target_year": 2030,
                    "reduction": 0.5,
                    "ambition": "1.5C",
                    "horizon": "near_term",
                }
            ],
        )
        import_rows(
            ws,
            "measures",
            [
                {
                    "id": "PUE",
                    "name": "PUE improvement",
                    "lever": "efficiency",
                    "cost_per_t": -100,
                    "currency": "CNY",
                    "reduction_t_co2e_per_yr": 2_000,
                    "start_year": 2025,
                    "ramp_years": 2,
                    "acts_on": "scope=2; activity=electricity",
                }
            ],
        )
        demo = resources.files("esgledger.demo")
        folder = ws.root / "report"
        shutil.copytree(Path(str(demo.joinpath("report"))), folder)
        import_metrics(ws, folder / "company_metrics.csv")
        import_metric_values(ws, Path(str(demo.joinpath("metric_values.csv"))))
        _hourly_files(folder, 2024)
        with (folder / "report.toml").open("a", encoding="utf-8") as handle:
            handle.write('\n[green]\nhourly_load = "load.csv"\nhourly_supply = "supply.csv"\n')
            handle.write("pue = { DC = 1.31 }\n")
        calculate(ws, allow_unresolved=True)
    finally:
        ws.close()
    return root


@dataclass
class Built:
    root: Path
    out: Path
    stdout: str
    inventory: dict[str, object]
    text: dict[str, str]
    layout: dict[str, str]


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = report_workspace(tmp_path_factory.mktemp("report-ws") / "ws")
    out = root / "out"
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    inventory = runner.invoke(app, ["inventory", str(root), "--format", "json"])
    assert inventory.exit_code == 0, inventory.output
    text, layout = {}, {}
    for lang in LANGS:
        pdf = out / f"esg-report-2024.{lang}.pdf"
        text[lang] = _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
        layout[lang] = _run("pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-")
    return Built(root, out, result.stdout, json.loads(inventory.stdout), text, layout)


def test_cli_lists_files_pages_draft_and_time(built: Built) -> None:
    for lang in LANGS:
        for suffix in ("html", "pdf"):
            path = built.out / f"esg-report-2024.{lang}.{suffix}"
            assert path.is_file()
            assert str(path) in built.stdout
    assert re.search(r"PDF pages: en \d+, zh-CN \d+", built.stdout)
    # The demo inputs leave comply-or-explain items (B2.1 ...) without values here.
    found = re.search(r"DRAFT: (\d+) mandatory item\(s\) missing: (.+)", built.stdout)
    assert found is not None, built.stdout
    assert int(found.group(1)) == len(found.group(2).split(", "))
    assert re.search(r"Done in \d+\.\d s", built.stdout)
    assert (built.out / "ghg-key-figures.en.csv").is_file()
    assert (built.out / "ghg-key-figures.zh-CN.xlsx").is_file()


def test_pages_render_to_png(built: Built) -> None:
    from PIL import Image

    for lang in LANGS:
        folder = built.out / f"png-{lang}"
        folder.mkdir(exist_ok=True)
        pdf = built.out / f"esg-report-2024.{lang}.pdf"
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(folder / "p")], check=True)
        found = re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf)))
        assert found is not None
        pages = int(found.group(1))
        pngs = sorted(folder.glob("p-*.png"))
        assert len(pngs) == pages > 10
        # The cover carries ink (title, company) and is not blank.
        assert Image.open(pngs[0]).convert("L").getextrema()[0] < 100


def test_no_missing_glyphs_in_the_chinese_edition(built: Built) -> None:
    from esgledger.report import fonts

    pdf = built.out / "esg-report-2024.zh-CN.pdf"
    table = _run("pdffonts", str(pdf))
    assert fonts.find_cjk_font().family.replace(" ", "-") in table
    latin = fonts.CjkFont("DejaVu Sans", Path(_run("fc-match", "-f", "%{file}", "DejaVu Sans")))
    assert fonts.missing_glyphs(built.text["zh-CN"], [fonts.find_cjk_font(), latin]) == set()
    assert "\ufffd" not in built.text["zh-CN"]
    squashed = _squash(built.text["zh-CN"])
    for words in ("示例科技控股有限公司", "董事会声明", "气候相关披露", "内容索引"):
        assert words in squashed


def test_chinese_unit_labels_print_on_one_line(built: Built) -> None:
    # The KPI tables' unit column once wrapped 千个千瓦时 one character per line.
    rows = [line for line in built.layout["zh-CN"].splitlines() if "A2.1" in line]
    assert any("千个千瓦时" in line for line in rows), rows[:5]


def test_every_content_index_entry_resolves_to_a_printed_page(built: Built) -> None:
    from esgledger.disclosure import load_catalogue
    from esgledger.report.builder import build_document
    from esgledger.store import Workspace

    with Workspace.open(built.root) as ws:
        doc = build_document(ws)  # the same run, so the same section numbers as the PDF
    numbers = doc.numbers()
    titles = {section.id: section.title for section in doc.walk()}
    codes = [item.code for item in load_catalogue().framework("HKEX_C2")]
    assert [entry.code for entry in doc.content_index] == codes
    for lang in LANGS:
        pages = built.text[lang].split("\f")  # pdftotext ends every page with a form feed
        lines = built.layout[lang].splitlines()
        # The index is the last part of the report; its first row is the first Part B item.
        start = max(i for i, ln in enumerate(lines) if ln.strip().startswith(codes[0] + " "))
        index_lines = lines[start:]
        for entry in doc.content_index:
            line = next(ln for ln in index_lines if ln.strip().startswith(entry.code + " "))
            page = line.split()[-1]
            assert page.isdigit(), (lang, entry.code, line)
            # The page the index prints (CSS target-counter) holds the section's heading.
            assert entry.section_id is not None
            heading = numbers[entry.section_id] + titles[entry.section_id].get(lang)
            assert _squash(heading) in _squash(pages[int(page) - 1]), (lang, entry.code, page)


def test_each_chart_is_present(built: Built) -> None:
    for lang in LANGS:
        html = (built.out / f"esg-report-2024.{lang}.html").read_text(encoding="utf-8")
        for chart in (*CHARTS, "target-pathway-s12-2030"):
            assert f'data-chart-id="{chart}"' in html, (lang, chart)
            assert re.search(rf'<figure id="{chart}"[^>]*>\s*<svg', html), (lang, chart)
        figures = len(re.findall(r"<figure ", html))
        label = ui("doc.figure", lang)
        squashed = _squash(built.text[lang])
        for number in range(1, figures + 1):
            assert _squash(f"{label} {number} ") in squashed, (lang, number)


def test_key_figures_appear_exactly(built: Built) -> None:
    totals = built.inventory["totals"]
    assert isinstance(totals, dict)
    for key in ("scope1", "scope2_location", "scope2_market", "scope3", "total"):
        printed = key_figure(float(totals[key]))
        assert len(printed) >= 3  # distinctive: not a page number or a stray digit
        for lang in LANGS:
            assert printed in built.text[lang].split(), (lang, key, printed)
    run = built.inventory["run"]
    assert isinstance(run, dict)
    assert str(run["run_id"]) in built.text["en"].replace("\n", "")


def test_same_run_same_generated_time(built: Built) -> None:
    html = (built.out / "esg-report-2024.en.html").read_text(encoding="utf-8")
    run = built.inventory["run"]
    assert isinstance(run, dict)
    created = dt.datetime.fromisoformat(str(run["created_at"])).isoformat(timespec="seconds")
    assert f'content="{created}"' in html


def test_one_language_html_only(built: Built) -> None:
    out = built.root / "out-html"
    result = CliRunner().invoke(
        app, ["report", str(built.root), "--lang", "zh-CN", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    editions = sorted(p.name for p in out.glob("esg-report-*"))
    assert editions == ["esg-report-2024.zh-CN.html"]
    assert "PDF pages" not in result.stdout
    assert not list(out.glob("*.en.*"))


def test_unknown_run_is_an_error(built: Built) -> None:
    result = CliRunner().invoke(app, ["report", str(built.root), "--run", "r-nope"])
    assert result.exit_code == 1
    assert "error: workspace" in result.stderr
    assert "has no run 'r-nope'" in result.stderr


def test_bad_report_inputs_exit_2_naming_file_line_and_key(tmp_path: Path, built: Built) -> None:
    root = tmp_path / "ws"
    shutil.copytree(built.root, root, ignore=shutil.ignore_patterns("out*"))
    toml = root / "report" / "report.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('tier = "largecap"', 'tier = "huge"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["report", str(root), "--format", "html"])
    assert result.exit_code == 2
    assert re.search(r"report/report.toml, row \d+, column 'company.tier'", result.stderr)
