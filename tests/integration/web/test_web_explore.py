"""The factor, green power and targets pages, in process: every page for the ESG office and
a scoped viewer in both languages, search and pagination, a factor's provenance, the resolve
form against the engine's own line items, green power and targets figures against the
domain's results, and escaping of what users type."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from _web_support import DemoCopy, copy_demo, page_client
from esgledger.i18n import format_number

PAGES = (
    "/factors",
    "/factors/cn-mee:location:CN-GD:2023",
    "/factors/resolve",
    "/factors/resolve?activity=stationary.diesel&region=CN&unit=t",
    "/green-power",
    "/targets",
    "/targets/plan",
)


@pytest.fixture(scope="module")
def demo(web_demo: DemoCopy, tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    """One copy of the demo for this module (the pages only read; sign-ins write sessions)."""
    return copy_demo(web_demo, tmp_path_factory.mktemp("explore") / "demo")


@pytest.fixture(scope="module")
def office(demo: DemoCopy) -> Iterator[Any]:
    with page_client(demo, "esg.office") as client:
        yield client


def _rows(text: str) -> int:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr")


def _count(text: str) -> int:
    found = re.search(r'id="factor-count">([^<]*)<', text)
    assert found is not None
    return int(re.sub(r"\D", "", found.group(1)))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("username", ["esg.office", "game.viewer"])
def test_every_page_renders_for_the_office_and_a_scoped_viewer(
    demo: DemoCopy, username: str, lang: str
) -> None:
    with page_client(demo, username, lang) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text[-2000:])
            assert f'<html lang="{lang}">' in answer.text
            assert answer.text.count("<h1") == 1, path
            assert 'aria-current="page"' in answer.text  # the nav marks the area


def test_search_and_filters_narrow_the_list_and_pages_hold_fifty(office: Any) -> None:
    everything = office.get("/factors").text
    total = _count(everything)
    assert total > 100
    assert _rows(everything) == 50
    assert 'rel="next"' in everything
    assert 'rel="prev"' not in everything

    diesel = office.get("/factors?q=diesel").text
    assert 0 < _count(diesel) < total
    narrowed = office.get("/factors?" + urlencode({"q": "diesel", "region": "CN"})).text
    assert 0 < _count(narrowed) < _count(diesel)
    for cell in re.findall(r'<td translate="no">([A-Z-]+)</td>\s*<td class="num">', narrowed):
        assert cell == "CN"
    by_set = office.get("/factors?source=cn-mee&year=2023").text
    assert 0 < _count(by_set) < total
    assert "cn-mee:location:CN-GD:2023" in by_set
    by_activity = office.get("/factors?activity=stationary.*").text
    assert 0 < _count(by_activity) < total

    second = office.get("/factors?page=2").text
    assert 'rel="prev"' in second
    first_ids = set(re.findall(r'href="/factors/([^"]+)"', everything))
    second_ids = set(re.findall(r'href="/factors/([^"]+)"', second))
    assert second_ids
    assert not (first_ids & second_ids - {"resolve"})
    # the pager keeps the filters
    pager = office.get("/factors?source=desnz-2024&page=2").text.split('class="pager"')[1]
    assert "source=desnz-2024" in pager
    assert "page=3" in pager
    assert "page=1" in pager
    beyond = office.get("/factors?page=9999").text
    assert "<tbody>" not in beyond
    bad = office.get("/factors?year=abc")
    assert bad.status_code == 422
    assert "abc" in bad.text


def test_a_factor_page_shows_its_source_and_vintage(office: Any) -> None:
    page = office.get("/factors/cn-mee:location:CN-GD:2023")
    assert page.status_code == 200
    text = html.unescape(page.text)
    provenance = text.split('id="provenance"', 1)[1]
    assert "cn-mee" in provenance
    assert "MEE" in provenance  # the publisher
    assert "Licence" in provenance
    assert "Edition" in provenance
    assert ">2023<" in text  # the vintage
    assert "0.4419" in text  # the amount
    assert office.get("/factors/no-such-factor").status_code == 404


def test_the_resolve_form_gives_the_engines_factor_and_tier(demo: DemoCopy, office: Any) -> None:
    from esgledger.inventory.runs import load_run
    from esgledger.store import Workspace

    with Workspace.open(demo.path) as ws:
        lines = load_run(ws).line_items().to_pylist()
    picked: dict[tuple[int, str], dict[str, Any]] = {}
    for line in lines:
        if line["line_kind"] != "activity" or line["excluded"] or line["factor_id"] is None:
            continue
        if line["scope"] == 2 or line["activity"].startswith("refrigerant"):
            continue  # scope 2 restricts methods and refrigerants use a GWP set
        picked.setdefault((line["scope"], line["tier"]), line)
    assert len(picked) >= 2
    for line in picked.values():
        query = {"activity": line["activity"], "region": line["region"], "unit": line["unit"]}
        if line["supplier"]:
            query["supplier"] = line["supplier"]
        if line["site"]:
            query["site"] = line["site"]
        answer = office.get("/factors/resolve?" + urlencode(query))
        assert answer.status_code == 200, answer.text[-1500:]
        factor = re.search(r'id="resolved-factor">([^<]+)<', answer.text)
        tier = re.search(r'data-tier="([^"]+)"', answer.text)
        assert factor is not None
        assert tier is not None
        assert html.unescape(factor.group(1)) == line["factor_id"], query
        assert tier.group(1) == line["tier"], query
    # a location-based electricity line keyed by its site's region: the form with the site
    # alone (no region) gives the engine's factor too
    line = next(
        x
        for x in lines
        if x["scope"] == 2 and x["method"] == "location" and x["region_from"] == "site"
    )
    query = {"activity": line["activity"], "site": line["site"], "unit": line["unit"]}
    answer = office.get("/factors/resolve?" + urlencode({**query, "method": "location"}))
    assert answer.status_code == 200, answer.text[-1500:]
    assert f'id="resolved-factor">{line["factor_id"]}<' in answer.text
    assert f'data-tier="{line["tier"]}"' in answer.text
    assert f'id="resolved-region">{line["region"]}<' in answer.text


def test_bad_resolve_input_gives_422_with_the_problem_in_the_users_language(
    demo: DemoCopy,
) -> None:
    with page_client(demo, "esg.office", "zh-CN") as client:
        answer = client.get("/factors/resolve?activity=stationary.diesel&region=XX&unit=t")
        assert answer.status_code == 422
        assert "不是已知的地区代码" in answer.text
        assert '<code translate="no">XX</code>' in answer.text
        assert 'id="r-region" name="region" value="XX"' in answer.text  # the form keeps it
        answer = client.get("/factors/resolve?activity=stationary.diesel&region=CN&year=abc")
        assert answer.status_code == 422
        assert "此项必填" in answer.text
        assert "1990" in answer.text
        answer = client.get(
            "/factors/resolve?activity=stationary.diesel&region=CN&unit=kg&quantity=zwei"
        )
        assert answer.status_code == 422
        assert "须为数字" in answer.text
        answer = client.get(
            "/factors/resolve?activity=stationary.diesel&region=CN&unit=kg&quantity=1500"
        )
        assert answer.status_code == 200
        assert '= 1.5 <span translate="no">tonne</span>' in answer.text
        answer = client.get("/factors/resolve?activity=electricity&site=NO-SUCH&unit=MWh")
        assert answer.status_code == 422
        assert "不是已导入且具有地区或国家信息的场所" in answer.text
        answer = client.get("/factors/resolve?activity=no.such&region=CN&unit=t")
        assert answer.status_code == 422
        assert "不是活动分类中的活动类型" in answer.text
        answer = client.get("/factors/resolve?activity=stationary.diesel&region=CN&unit=pkm")
        assert answer.status_code == 422
        assert "不是该活动类型量纲下的有效单位" in answer.text
        assert "Traceback" not in answer.text


def test_green_power_figures_equal_the_domain_results(demo: DemoCopy, office: Any) -> None:
    from esgledger.inventory.market import market_based
    from esgledger.inventory.runs import load_run
    from esgledger.renewables import cfe as cfe_module
    from esgledger.renewables.allocation import re_share
    from esgledger.report.config import load_report_inputs
    from esgledger.store import Workspace

    with Workspace.open(demo.path) as ws:
        market = market_based(ws, load_run(ws), write=False)
        shares = re_share(
            list(market.consumption), market.allocation, level="site",
            parents=dict(market.parents), re100=True, year=market.year,
        )  # fmt: skip
        green = load_report_inputs(ws.root, workspace_name=ws.name)
    load = cfe_module.read_hourly(green.resolve(str(green.config.green.hourly_load)), "load")
    supply = cfe_module.read_hourly(green.resolve(str(green.config.green.hourly_supply)), "clean")
    sites, hours, load_m = cfe_module.matrix_from_table(load, "load_mwh")
    _, _, clean_m = cfe_module.matrix_from_table(supply, "clean_mwh", sites=sites, hours=hours)
    score = cfe_module.cfe(load_m, clean_m, green.config.green.grid_cfe).summary()

    text = office.get("/green-power").text
    for share in shares:
        row = text.split(f'<tr data-site="{share.code}">', 1)[1].split("</tr>", 1)[0]
        shown = re.search(r'class="num re-pct">([^<]*)<', row)
        assert shown is not None
        assert shown.group(1) == format_number(100 * share.re_share, "en", 1), share.code
    cfe_value = re.search(r'id="cfe-value">([^<]*)<', text)
    assert cfe_value is not None
    assert (
        cfe_value.group(1).strip() == f"{format_number(100 * score.portfolio_cfe_score, 'en', 1)} %"
    )
    group = text.split('id="re-group"', 1)[1]
    assert format_number(100 * market.re_share_group, "en", 1) in group
    # the heat-map reads without colour: 12 months × 24 hours, each with a class and a number
    heat = text.split('id="cfe-heatmap"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="(heat-[0-4])">([^<]+)</td>', heat)
    assert len(cells) == 12 * 24
    assert {c for c, _ in cells} >= {"heat-0", "heat-4"}
    # every instrument of the register, with its verdict in words
    for verdict in market.assessments:
        assert f'data-instrument="{verdict.instrument.instrument}"' in text
    assert text.count("badge-fail") >= 1


def test_a_scoped_viewer_sees_its_own_sites_and_no_group_figures(demo: DemoCopy) -> None:
    with page_client(demo, "game.viewer") as client:
        green = client.get("/green-power").text
        assert 'id="re-group"' not in green
        assert 'data-site="DC-GD"' not in green
        plan = client.get("/targets/plan").text
        assert 'id="macc"' not in plan
        targets = client.get("/targets").text
        assert 'id="sbti"' in targets
        assert "progress-1" not in targets


def test_the_targets_page_shows_every_sbti_check_and_the_temperature_score(
    demo: DemoCopy, office: Any
) -> None:
    from esgledger.store import Workspace
    from esgledger.targets.service import target_status

    with Workspace.open(demo.path) as ws:
        status = target_status(ws)
    text = office.get("/targets").text
    assert status.checks
    for check in status.checks:
        marker = (
            f'data-rule="{check.rule}" data-target="{check.target_id or ""}" '
            f'data-status="{check.status.value}"'
        )
        assert marker in text, marker
        assert html.escape(check.message, quote=True) in text or check.message in html.unescape(
            text
        )
    assert status.temperature is not None
    shown = re.search(r'id="temperature-value">([^<]*)<', text)
    assert shown is not None
    assert shown.group(1).strip() == format_number(status.temperature.s1s2s3_c, "en", 2)
    for state in status.targets:
        assert f'id="target-{state.target.id}"' in text
    plan = office.get("/targets/plan").text
    assert 'id="macc-chart"' in plan
    assert 'id="scenario-chart"' in plan
    assert plan.count("data-measure=") >= 2


def test_what_users_type_and_import_renders_as_text(web_demo: DemoCopy, tmp_path: Path) -> None:
    from esgledger.store import Workspace
    from esgledger.targets.service import add_target, stored_targets

    demo = copy_demo(web_demo, tmp_path / "demo")
    evil = "<script>alert(1)</script>"
    with Workspace.open(demo.path) as ws:
        first = stored_targets(ws)[0].target
        data = first.model_dump(mode="json")
        data.update(id="XSS-1", name=f"Evil {evil}", name_zh=f"恶意 {evil}")
        add_target(ws, data, reason="escaping test")
    with page_client(demo, "esg.office") as client:
        for path in (
            "/factors?" + urlencode({"q": evil}),
            "/factors/resolve?" + urlencode({"activity": "stationary.diesel", "region": evil,
                                             "unit": "t"}),
            "/targets",
        ):  # fmt: skip
            text = client.get(path).text
            assert evil not in text, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
