"""The energy pages, in process, over a small workspace built through the real importers:
the site list and a site's page in both languages, the monthly energy by role against the
readings written (a sub-meter of the same role not counted twice), the IT load profile,
coverage and a gap's flag, the meter tree, scope (a data owner of another entity gets the
same 404 as for an unknown site), a bad period as the bilingual 422 page, escaping of a
meter name, and the API twin of the page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from _energy_support import import_meters, import_readings, meter, organise_two_units
from _web_support import DemoCopy, page_client
from _zh_english import english_words, html_text
from esgledger.access import Principal
from esgledger.access.users import add_user
from esgledger.store import Workspace

PASSWORD = "a-long-password-1"
HOSTILE = "<script>alert(1)</script>"
START = datetime(2024, 3, 1)  # local wall time at the site (Asia/Shanghai, from CN)
DAYS = 2
STEPS = DAYS * 96
#: Readings of COOL-A left out (a gap of 11 intervals on the first day).
GAP = range(10, 21)


def _it_kwh(step: int) -> float:
    """IT energy of the 15 minutes that start ``step`` quarters after START: rises with the
    local hour of the day (2.5 kWh at midnight, +0.25 kWh per hour)."""
    hour = (START + timedelta(minutes=15 * step)).hour
    return 2.5 + 0.25 * hour


def _cool_kwh(step: int) -> float:
    """Cooling energy of a quarter: 1.5 kWh give or take a little (never a stuck value)."""
    return 1.5 + 0.01 * (step % 7)


def _light_kwh(step: int) -> float:
    """Lighting and security (role ``other``) of a quarter: about 0.5 kWh."""
    return 0.5 + 0.01 * (step % 3)


def _incomer_kwh(step: int) -> float:
    """The incomer: UPS input (IT + 5 % UPS loss) + cooling + other, nothing unmetered."""
    return _it_kwh(step) * 1.05 + _cool_kwh(step) + _light_kwh(step)


def _readings(code: str, value: Any, skip: range = range(0)) -> list[tuple[str, str, float]]:
    """Interval readings (the end of each 15 minutes marked) of one meter over the DAYS."""
    rows = []
    for step in range(STEPS):
        if step in skip:
            continue
        end = START + timedelta(minutes=15 * (step + 1))
        rows.append((code, end.isoformat(), value(step) if callable(value) else value))
    return rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCopy:
    """Group GRP with units A (site DC1, the full tree) and B (site DC2, an incomer only);
    an ESG office account, a data owner of A and one of B."""
    root: Path = tmp_path_factory.mktemp("energy-pages") / "ws"
    ws = Workspace.init(root, year=2024, name="Energy Test")
    try:
        organise_two_units(ws)
        import_meters(
            ws,
            [
                meter("INC", "incomer", name="Main incomer", name_zh="市电总进线"),
                meter("UPSIN", "ups_input", parent="INC"),
                meter("UPSOUT", "ups_output", parent="UPSIN"),
                meter("IT1", "it_input", parent="UPSOUT", name=HOSTILE),
                meter("COOL", "cooling", parent="INC", name="Chiller plant"),
                meter("COOL-A", "cooling", parent="COOL", name="Chiller A"),
                meter("LIGHT", "other", parent="INC"),
                meter("INC2", "incomer", site_code="DC2"),
            ],
        )
        import_readings(
            ws,
            _readings("IT1", _it_kwh)
            + _readings("UPSIN", lambda s: _it_kwh(s) * 1.05)
            + _readings("UPSOUT", lambda s: _it_kwh(s) * 1.01)
            + _readings("COOL", _cool_kwh)
            + _readings("COOL-A", lambda s: _cool_kwh(s) - 0.5, skip=GAP)
            + _readings("LIGHT", _light_kwh)
            + _readings("INC", _incomer_kwh)
            + _readings("INC2", lambda s: 4.0 + 0.1 * (s % 5)),
        )
        for username, role, scope in (
            ("office", "esg_office", None),
            ("owner.a", "data_owner", "A"),
            ("owner.b", "data_owner", "B"),
        ):
            add_user(ws, Principal.local(), username, role=role, scope=scope, password=PASSWORD)
    finally:
        ws.close()
    return DemoCopy(root, dict.fromkeys(("office", "owner.a", "owner.b"), PASSWORD))


@pytest.fixture(scope="module")
def office(demo: DemoCopy) -> Iterator[Any]:
    with page_client(demo, "office") as client:
        yield client


def _cell_numbers(text: str, table_id: str) -> list[list[str]]:
    body = text.split(f'id="{table_id}"', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


def _number(cell: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", html.unescape(cell)))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_list_and_the_site_page_render_in_both_languages(demo: DemoCopy, lang: str) -> None:
    with page_client(demo, "office", lang) as client:
        listing = client.get("/energy")
        assert listing.status_code == 200, listing.text[-2000:]
        assert f'<html lang="{lang}">' in listing.text
        assert 'href="/energy/sites/DC1"' in listing.text
        assert 'href="/energy/sites/DC2"' in listing.text
        assert 'href="/energy"' in listing.text.split("</nav>", 1)[0]  # in the navigation
        assert listing.headers["link"].startswith("</api/v1/energy/sites>")
        page = client.get("/energy/sites/DC1?period=2024-03")
        assert page.status_code == 200, page.text[-2000:]
        assert page.text.count("<h1") == 1
        assert 'aria-current="page"' in page.text
        for answer in (listing, page):
            found = english_words(html_text(answer.text, skip_untranslated=True))
            if lang == "zh-CN":
                assert not found, [str(f) for f in found]
            else:
                assert not re.search(
                    r"[\u4e00-\u9fff]", html_text(answer.text, skip_untranslated=True)
                )


def test_monthly_energy_sums_top_meters_of_each_role(office: Any) -> None:
    page = office.get("/energy/sites/DC1?period=2024-03").text
    header = page.split('id="monthly-table"', 1)[1].split("</thead>", 1)[0]
    columns = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', header, re.S)
    rows = _cell_numbers(page, "monthly-table")
    assert [r[0] for r in rows] == ["2024-03"]
    values = dict(zip(columns[1:], rows[0][1:], strict=True))

    def value_of(label: str) -> float:
        (cell,) = [v for k, v in values.items() if k.startswith(label)]
        return _number(cell)

    it_total = sum(_it_kwh(s) for s in range(STEPS))
    assert value_of("IT equipment input") == pytest.approx(it_total, abs=0.5)
    # cooling is COOL alone: COOL-A is its sub-meter, counted once through COOL
    cooling = sum(_cool_kwh(s) for s in range(STEPS))
    assert value_of("Cooling") == pytest.approx(cooling, abs=0.5)
    incomer = sum(_incomer_kwh(s) for s in range(STEPS))
    assert value_of("Utility incomer") == pytest.approx(incomer, abs=0.5)
    # March has 31 days of which the readings cover 2
    assert _number(rows[0][-1]) == pytest.approx(100 * 2 / 31, abs=0.1)


def test_load_profile_coverage_flags_and_tree(office: Any) -> None:
    page = office.get("/energy/sites/DC1?period=2024-03-01:2024-03-02").text
    load = _cell_numbers(page, "load-table")
    assert [r[0] for r in load] == ["2024-03"]
    hours = [_number(c) for c in load[0][1:]]
    # each hour's IT energy is 4 quarters of 2.5 + 0.25 h kWh; the table rounds to kWh
    assert hours == [round(4 * (2.5 + 0.25 * h)) for h in range(24)]
    # the shades run from the lowest hour (midnight) to the highest (23:00)
    cells = re.findall(r'<td(?: class="(load-\d)")?>', page.split('id="load-table"')[1])
    assert cells[0] == "load-0"
    assert cells[23] == "load-4"

    coverage = {r[0]: r for r in _cell_numbers(page, "coverage-table")}
    assert _number(coverage["COOL-A"][4]) == pytest.approx(
        100 * (STEPS - len(GAP)) / STEPS, abs=0.1
    )
    assert _number(coverage["IT1"][4]) == pytest.approx(100.0)
    assert "Gap" in coverage["COOL-A"][5]
    flags = _cell_numbers(page, "flags-table")
    assert [(r[0], r[1]) for r in flags] == [("COOL-A", "Gap")]

    tree = page.split('id="energy-tree"', 1)[1]
    assert tree.index('data-meter="INC"') < tree.index('data-meter="COOL"')
    assert tree.index('data-meter="COOL"') < tree.index('data-meter="COOL-A"')
    assert tree.index('data-meter="UPSIN"') < tree.index('data-meter="UPSOUT"')
    assert tree.index('data-meter="UPSOUT"') < tree.index('data-meter="IT1"')
    assert "Main incomer" in tree


def test_default_period_is_the_twelve_months_up_to_the_last_month_with_data(office: Any) -> None:
    page = office.get("/energy/sites/DC1").text
    assert '<span translate="no" id="period-label">2023-04-01:2024-03-31</span>' in page
    assert len(_cell_numbers(page, "monthly-table")) == 12


def test_the_chinese_page_shows_the_chinese_meter_name(demo: DemoCopy) -> None:
    with page_client(demo, "office", "zh-CN") as client:
        tree = client.get("/energy/sites/DC1?period=2024-03").text.split('id="energy-tree"')[1]
    assert "市电总进线" in tree
    assert "Main incomer" not in tree


def test_a_data_owner_sees_only_the_sites_of_the_own_entity(demo: DemoCopy) -> None:
    with page_client(demo, "owner.b") as client:
        listing = client.get("/energy").text
        assert 'href="/energy/sites/DC2"' in listing
        assert "DC1" not in listing
        assert client.get("/energy/sites/DC2?period=2024-03").status_code == 200
        hidden = client.get("/energy/sites/DC1")
        unknown = client.get("/energy/sites/NOPE")
        assert hidden.status_code == unknown.status_code == 404
        assert "Main incomer" not in hidden.text
        api = client.get("/api/v1/energy/sites/DC1/rollup?grain=month")
        assert api.status_code == 404
    with page_client(demo, "owner.a") as client:
        assert client.get("/energy/sites/DC1?period=2024-03").status_code == 200
        assert client.get("/energy/sites/DC2").status_code == 404


@pytest.mark.parametrize(("lang", "title"), [("en", "Invalid input"), ("zh-CN", "输入无效")])
@pytest.mark.parametrize("bad", ["2024-13", "last year", "2024-03-05:2024-03-01"])
def test_a_bad_period_is_the_422_page_in_the_users_language(
    demo: DemoCopy, lang: str, title: str, bad: str
) -> None:
    with page_client(demo, "office", lang) as client:
        answer = client.get("/energy/sites/DC1", params={"period": bad})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in answer.text
    assert "Traceback" not in answer.text
    assert html.escape(bad, quote=False) in answer.text  # the issue table names the value


def test_a_hostile_meter_name_is_escaped(office: Any) -> None:
    page = office.get("/energy/sites/DC1?period=2024-03").text
    assert HOSTILE not in page
    assert html.escape(HOSTILE, quote=False) in page


def test_the_api_twin_gives_the_rollup_of_the_page(office: Any) -> None:
    page = office.get("/energy/sites/DC1?period=2024-03")
    link = page.headers["link"]
    assert link == (
        '</api/v1/energy/sites/DC1/rollup?grain=month&period=2024-03>; rel="alternate"; '
        'type="application/json"'
    )
    answer = office.get("/api/v1/energy/sites/DC1/rollup?grain=day&period=2024-03")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["period_start"], body["period_end"]) == ("2024-03-01", "2024-03-31")
    it_days = [r["quantity"] for r in body["rows"] if r["meter"] == "IT1"]
    assert len(it_days) == DAYS
    assert sum(it_days) == pytest.approx(sum(_it_kwh(s) for s in range(STEPS)))
    assert office.get("/api/v1/energy/sites/DC1/rollup?grain=week").status_code == 422
    assert office.get("/api/v1/energy/sites/DC1/rollup?period=2024-13").status_code == 422


def test_the_kpi_panel_shows_pue_from_the_readings(office: Any) -> None:
    page = office.get("/energy/sites/DC1?period=2024-03-01:2024-03-02").text
    it_total = sum(_it_kwh(s) for s in range(STEPS))
    incomer = sum(_incomer_kwh(s) for s in range(STEPS))
    rows = {r[0]: r for r in _cell_numbers(page, "kpi-table")}
    # PUE = E_DC / E_IT (ISO/IEC 30134-2 §6); E_DC is the incomer (no fuel, no non-DC load)
    assert _number(rows["PUE"][1]) == pytest.approx(incomer / it_total, abs=0.0005)
    assert _number(rows["DCiE"][1]) == pytest.approx(it_total / incomer, abs=0.0005)
    # the IT energy is metered at the IT input: measurement category 3 (Green Grid WP#49)
    figure = page.split('id="kpi-pue"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "PUE_L3," in figure
    # CLF, PLF (UPS 4 % + distribution 1 % of IT) and OLF add up to PUE - 1 (nothing
    # unattributed here)
    clf = sum(_cool_kwh(s) for s in range(STEPS)) / it_total
    olf = sum(_light_kwh(s) for s in range(STEPS)) / it_total
    assert _number(rows["CLF"][1]) == pytest.approx(clf, abs=0.0005)
    assert _number(rows["PLF"][1]) == pytest.approx(0.05, abs=0.0005)
    assert _number(rows["OLF"][1]) == pytest.approx(olf, abs=0.0005)
    waterfall = {r[0]: r[1] for r in _cell_numbers(page, "waterfall-table")}
    assert _number(waterfall["PUE"]) == pytest.approx(1 + clf + 0.05 + olf, abs=0.0005)


def test_the_kpi_api_twin_agrees_with_the_panel_and_keeps_scope(demo: DemoCopy) -> None:
    it_total = sum(_it_kwh(s) for s in range(STEPS))
    incomer = sum(_incomer_kwh(s) for s in range(STEPS))
    with page_client(demo, "owner.a") as client:
        answer = client.get("/api/v1/energy/sites/DC1/kpis?period=2024-03-01:2024-03-02")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["pue"] == pytest.approx(incomer / it_total)
        assert body["pue_category"].startswith("PUE_L3,")
        assert client.get("/api/v1/energy/sites/DC2/kpis").status_code == 404
        assert client.get("/api/v1/energy/sites/DC1/kpis?period=2024-02-30").status_code == 422


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_alerts_block_loads_by_htmx_and_lists_the_gap(demo: DemoCopy, lang: str) -> None:
    with page_client(demo, "owner.a", lang) as client:
        page = client.get("/energy/sites/DC1?period=2024-03").text
        assert 'hx-get="/energy/sites/DC1/alerts?period=2024-03"' in page
        fragment = client.get(
            "/energy/sites/DC1/alerts?period=2024-03", headers={"HX-Request": "true"}
        )
        assert fragment.status_code == 200, fragment.text[-2000:]
        assert "<html" not in fragment.text
        assert fragment.text.lstrip().startswith('<section class="card" id="energy-alerts">')
        rows = _cell_numbers(fragment.text, "alerts-table")
        # the core flags COOL-A's gap; the rule layer turns the flag into an alert
        assert any("COOL-A" in r[2] and "gap" in r[0] for r in rows), rows
        whole = client.get("/energy/sites/DC1/alerts?period=2024-03")
        assert whole.text.count("<h1") == 1
        if lang == "zh-CN":
            found = english_words(html_text(whole.text, skip_untranslated=True))
            assert not found, [str(f) for f in found]
    with page_client(demo, "owner.b") as client:
        assert client.get("/energy/sites/DC1/alerts").status_code == 404
