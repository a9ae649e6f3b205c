"""The pure helpers of the energy pages' service: which meters carry a role's energy, which
IT role the load profile reads, and the shades of the load table."""

from __future__ import annotations

from esgledger.energy.meters import Meter
from esgledger.energy.views import it_role, top_meters
from esgledger.server.web.energy import load_class


def _meter(code: str, role: str, parent: str | None = None) -> Meter:
    return Meter(code, "DC1", parent, role, "kWh", "interval", 1.0, None, "Asia/Shanghai",
                 None, "end")  # fmt: skip


def test_a_sub_meter_under_a_meter_of_its_role_is_not_a_top_meter() -> None:
    meters = [
        _meter("INC", "incomer"),
        _meter("COOL", "cooling", "INC"),
        _meter("CH1", "cooling", "COOL"),
        _meter("PUMP", "other", "COOL"),
        _meter("CH1-A", "cooling", "PUMP"),  # cooling under other under cooling: still nested
        _meter("CRAH", "cooling", "INC"),
    ]
    tops = top_meters(meters)
    assert [m.meter for m in tops["cooling"]] == ["COOL", "CRAH"]
    assert [m.meter for m in tops["other"]] == ["PUMP"]
    assert [m.meter for m in tops["incomer"]] == ["INC"]


def test_a_parent_cycle_does_not_loop() -> None:
    meters = [_meter("A", "cooling", "B"), _meter("B", "other", "A")]
    assert [m.meter for m in top_meters(meters)["cooling"]] == ["A"]


def test_the_profile_reads_the_most_downstream_it_role() -> None:
    assert it_role(["incomer", "ups_output", "pdu_output", "it_input"]) == "it_input"
    assert it_role(["incomer", "ups_output", "pdu_output"]) == "pdu_output"
    assert it_role(["ups_output", "cooling"]) == "ups_output"
    assert it_role(["incomer", "cooling"]) is None


def test_load_shades_divide_the_range_in_five() -> None:
    assert load_class(None, 10.0, 20.0) == ""
    assert load_class(10.0, 10.0, 20.0) == "load-0"
    assert load_class(11.99, 10.0, 20.0) == "load-0"
    assert load_class(12.0, 10.0, 20.0) == "load-1"
    assert load_class(19.99, 10.0, 20.0) == "load-4"
    assert load_class(20.0, 10.0, 20.0) == "load-4"
    assert load_class(15.0, 15.0, 15.0) == "load-2"  # a flat load: the middle shade
