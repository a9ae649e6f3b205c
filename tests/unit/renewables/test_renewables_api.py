"""The public API of esgledger.renewables (an explicit ``__all__``)."""

from __future__ import annotations

import esgledger.renewables as renewables


def test_all_names_exist_once() -> None:
    assert len(set(renewables.__all__)) == len(renewables.__all__)
    for name in renewables.__all__:
        assert getattr(renewables, name) is not None


def test_the_engine_facing_functions_are_exported() -> None:
    wanted = {"assess", "allocate", "market_based", "re_share", "cfe_summary", "pv_hourly"}
    assert wanted <= set(renewables.__all__)


def test_the_cfe_module_is_not_shadowed_by_its_function() -> None:
    import esgledger.renewables.cfe as module

    assert callable(module.cfe)
    assert module.__name__ == "esgledger.renewables.cfe"
