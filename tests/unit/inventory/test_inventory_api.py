"""The public API of esgledger.inventory (an explicit ``__all__``)."""

from __future__ import annotations

import importlib

import esgledger.inventory as inventory
from esgledger.inventory import base_year, diff, engine, market, quality, runs, uncertainty

# The function explain shadows its module in the package namespace; the module is still
# importable by name (from-imports and import_module use sys.modules).
explain_module = importlib.import_module("esgledger.inventory.explain")


def test_all_names_exist_once_and_are_sorted() -> None:
    assert len(set(inventory.__all__)) == len(inventory.__all__)
    assert list(inventory.__all__) == sorted(inventory.__all__)
    for name in inventory.__all__:
        assert getattr(inventory, name) is not None


def test_the_workflow_functions_are_exported_from_their_modules() -> None:
    wanted = {
        "calculate": engine.calculate,
        "load_run": runs.load_run,
        "list_runs": runs.list_runs,
        "summary": runs.summary,
        "explain": explain_module.explain,
        "diff_runs": diff.diff_runs,
        "recalculate": base_year.recalculate,
        "score_line_items": quality.score_line_items,
        "data_quality_summary": quality.data_quality_summary,
        "monte_carlo": uncertainty.monte_carlo,
        "market_based": market.market_based,
    }
    assert set(wanted) <= set(inventory.__all__)
    for name, function in wanted.items():
        assert getattr(inventory, name) is function, name


def test_the_explain_module_stays_importable() -> None:
    from esgledger.inventory.explain import explain_line

    assert explain_module.__name__ == "esgledger.inventory.explain"
    assert explain_module.explain_line is explain_line
