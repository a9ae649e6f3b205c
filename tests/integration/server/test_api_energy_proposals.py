"""``GET /api/v1/energy/sites/{site}/proposals`` and ``POST …/proposals/{id}/adopt``: the
same contract as ``esgledger energy proposals --format json`` (one domain call,
:func:`esgledger.energy.proposals.proposals_for_sites`), scope (a site of another unit is
not found), roles (planning needs ``energy:plan``), problem documents for bad options, and an
adopted proposal among the planner's measures, its MACC and the audit trail.

Workspace: ``tests/_energy_proposals.py`` (two data centres, two metered days, weather), through
the ``proposals_*`` fixtures of ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _energy_proposals import PRICE
from _web_support import DemoCopy, page_client
from esgledger import audit
from esgledger.store import Workspace
from esgledger.targets import service as targets

LIST = "/api/v1/energy/sites/{site}/proposals"
ADOPT = "/api/v1/energy/sites/{site}/proposals/{id}/adopt"
PROBLEM = "application/problem+json"


def _cli_json(root: Path, *args: str) -> dict[str, Any]:
    """``esgledger energy proposals ROOT ARGS --format json`` as JSON."""
    from typer.testing import CliRunner

    from esgledger.cli import app

    done = CliRunner().invoke(app, ["energy", "proposals", str(root), *args, "--format", "json"])
    assert done.exit_code == 0, done.output
    data: dict[str, Any] = json.loads(done.stdout)
    return data


class TestListProposals:
    def test_anonymous_gets_401_and_a_problem_document(self, proposals_ws: DemoCopy) -> None:
        with page_client(proposals_ws, None) as client:
            answer = client.get(LIST.format(site="DC1"), params={"price_per_kwh": PRICE})
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM

    def test_the_api_gives_what_the_cli_prints(
        self, proposals_ws: DemoCopy, proposals_office: Any
    ) -> None:
        params = {"price_per_kwh": PRICE, "capex": ["ups_eco=50000:8"], "exclude": ["setpoint"]}
        answer = proposals_office.get(LIST.format(site="DC1"), params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        printed = _cli_json(
            proposals_ws.path, "--site", "DC1", "--price-per-kwh", str(PRICE),
            "--capex", "ups_eco=50000:8", "--exclude", "setpoint",
        )  # fmt: skip
        assert body == printed
        ids = [p["id"] for p in body["proposals"]]
        assert "energy.DC1.setpoint" not in ids
        assert [r["lever"] for r in body["refused"]] == ["setpoint"]
        assert [p["rank"] for p in body["proposals"]] == list(range(1, len(ids) + 1))
        ups = next(p for p in body["proposals"] if p["lever"] == "ups_eco")
        assert ups["capex"] == 50_000
        assert ups["lifetime_yr"] == 8
        # payback = capex / annual saving, as the proposal states both
        assert ups["payback_yr"] == pytest.approx(50_000 / ups["saved_cost"], rel=1e-12)

    def test_double_conversion_refuses_ups_eco_mode(self, proposals_office: Any) -> None:
        answer = proposals_office.get(
            LIST.format(site="DC1"), params={"price_per_kwh": PRICE, "double_conversion": True}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "ups_eco" not in {p["lever"] for p in body["proposals"]}
        assert "double-conversion" in body["refused"][0]["reason"]["en"]

    def test_a_site_of_another_unit_is_not_found_like_an_unknown_one(
        self, proposals_ws: DemoCopy
    ) -> None:
        with page_client(proposals_ws, "owner.a") as client:
            own = client.get(LIST.format(site="DC1"), params={"price_per_kwh": PRICE})
            assert own.status_code == 200, own.text
            other = client.get(LIST.format(site="DC2"), params={"price_per_kwh": PRICE})
            unknown = client.get(LIST.format(site="NOPE"), params={"price_per_kwh": PRICE})
        assert other.status_code == unknown.status_code == 404
        assert other.headers["content-type"] == PROBLEM
        assert "DC2" in other.json()["detail"]
        assert "DC1" not in other.text

    @pytest.mark.parametrize(
        ("params", "needle"),
        [
            ({}, "price_per_kwh"),
            ({"price_per_kwh": -1}, "price_per_kwh"),
            ({"price_per_kwh": "nan"}, "price_per_kwh"),
            ({"price_per_kwh": PRICE, "capex": ["free_cooling"]}, "lever=amount"),
            ({"price_per_kwh": PRICE, "capex": ["free_cooling=1e6:0"]}, "lifetime"),
            ({"price_per_kwh": PRICE, "currency": "usd", "capex": ["ups_eco=1:5"]}, None),
            ({"price_per_kwh": PRICE, "period": "2024-02-30"}, "2024-02-30"),
            ({"price_per_kwh": PRICE, "pv_kwp": 100}, "latitude"),
        ],
    )
    def test_bad_options_are_a_422_problem_naming_what_is_wrong(
        self, proposals_office: Any, params: dict[str, Any], needle: str | None
    ) -> None:
        answer = proposals_office.get(LIST.format(site="DC1"), params=params)
        if needle is None:  # a lowercase currency is read as its code: allowed
            assert answer.status_code == 200, answer.text
            assert answer.json()["proposals"][0]["currency"] == "USD"
            return
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert needle in answer.text
        assert "Traceback" not in answer.text


class TestAdoptProposal:
    def _adopt(self, client: Any, site: str, lever: str, **body: Any) -> Any:
        return client.post(
            ADOPT.format(site=site, id=f"energy.{site}.{lever}"),
            json={"start_year": 2025, "price_per_kwh": PRICE, **body},
            headers={"X-CSRF-Token": client.csrf},
        )

    def test_anonymous_gets_401_and_a_problem_document(self, proposals_ws: DemoCopy) -> None:
        with page_client(proposals_ws, None) as client:
            answer = client.post(
                ADOPT.format(site="DC1", id="energy.DC1.ups_eco"),
                json={"start_year": 2025, "price_per_kwh": PRICE},
            )
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM

    def test_an_adopted_proposal_is_a_planner_measure_once(self, proposals_copy: DemoCopy) -> None:
        with page_client(proposals_copy, "office") as client:
            listed = client.get(LIST.format(site="DC1"), params={"price_per_kwh": PRICE}).json()
            ups = next(p for p in listed["proposals"] if p["lever"] == "ups_eco")
            first = self._adopt(client, "DC1", "ups_eco")
            assert first.status_code == 200, first.text
            assert first.json() == {"measures": {"energy.DC1.ups_eco": "added"}}
            again = self._adopt(client, "DC1", "ups_eco")
            assert again.json() == {"measures": {"energy.DC1.ups_eco": "unchanged"}}
            later = self._adopt(client, "DC1", "ups_eco", start_year=2026, ramp_years=2)
            assert later.json() == {"measures": {"energy.DC1.ups_eco": "updated"}}
        with Workspace.open(proposals_copy.path) as ws:
            (measure,) = targets.stored_measures(ws)
            assert measure.id == "energy.DC1.ups_eco"
            assert measure.reduction_t_co2e_per_yr == pytest.approx(ups["saved_t_co2e_market"])
            assert measure.cost_per_t == pytest.approx(ups["cost_per_t"])
            assert (measure.start_year, measure.ramp_years) == (2026, 2)
            assert measure.acts_on.sites == ("DC1",)
            assert targets.plan(ws).macc["id"].to_pylist() == ["energy.DC1.ups_eco"]
            events = [e for e in audit.events(ws) if e.action == "energy.adopt"]
            assert [(e.actor, e.object_id) for e in events] == [
                ("office", "energy.DC1.ups_eco"),
                ("office", "energy.DC1.ups_eco"),
            ]
            assert audit.verify(ws).intact

    def test_a_data_owner_may_not_plan(self, proposals_copy: DemoCopy) -> None:
        with page_client(proposals_copy, "owner.a") as client:
            answer = self._adopt(client, "DC1", "ups_eco")
        assert answer.status_code == 403
        assert answer.headers["content-type"] == PROBLEM
        with Workspace.open(proposals_copy.path) as ws:
            assert targets.stored_measures(ws) == []

    def test_unknown_site_or_proposal_is_404_and_a_bad_body_422(
        self, proposals_copy: DemoCopy
    ) -> None:
        with page_client(proposals_copy, "office") as client:
            assert self._adopt(client, "NOPE", "ups_eco").status_code == 404
            unknown = self._adopt(client, "DC1", "warp_drive")
            assert unknown.status_code == 404
            assert "energy.DC1.ups_eco" in unknown.json()["detail"]  # says what exists
            # a proposal that avoids nothing cannot become a measure (the domain says why)
            nothing = self._adopt(client, "DC1", "heat_reuse")
            assert nothing.status_code == 422, nothing.text
            assert "avoids no market-based emissions" in nothing.json()["detail"]
            for body in ({"start_year": "soon"}, {"price_per_kwh": None}, {"ramp_years": -1}):
                bad = self._adopt(client, "DC1", "ups_eco", **body)
                assert bad.status_code == 422, bad.text
                assert bad.headers["content-type"] == PROBLEM
            no_csrf = client.post(
                ADOPT.format(site="DC1", id="energy.DC1.ups_eco"),
                json={"start_year": 2025, "price_per_kwh": PRICE},
            )
            assert no_csrf.status_code == 403
        with Workspace.open(proposals_copy.path) as ws:
            assert targets.stored_measures(ws) == []
