"""Builders for target tests: a valid :class:`~esgledger.targets.model.Target` with overrides.

(``tests/`` is on ``sys.path`` because the root ``conftest.py`` lives there.)
"""

from __future__ import annotations

from typing import Any

from esgledger.targets.model import Target

#: The fields of an absolute Scope 1+2 target, 2020 -> 2030, 50 % reduction.
TARGET_DEFAULTS: dict[str, Any] = {
    "id": "t",
    "name": "target",
    "kind": "absolute",
    "scopes": "1+2",
    "base_year": 2020,
    "target_year": 2030,
    "reduction": 0.5,
}


def make_target(**overrides: Any) -> Target:
    """A target validated through the model from :data:`TARGET_DEFAULTS` and ``overrides``."""
    return Target.model_validate({**TARGET_DEFAULTS, **overrides})
