"""Findings: one dotted code, bilingual text, the data that reproduces it.

Stand-in written by the baseline helper against the issue-14 contract (the lead owns this
module); the lead's ``energy core:`` version replaces it on merge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from esgledger.i18n import Text

__all__ = ["Finding", "Severity"]

Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    """One thing found about the data or a result: ``code`` (``energy.<area>.<what>``),
    bilingual ``text``, ``data`` that reproduces it, and a ``severity``."""

    code: str
    text: Text
    data: Mapping[str, Any] = field(default_factory=dict)
    severity: Literal["info", "warning", "error"] = "warning"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``code``, ``text`` {en, zh}, ``data``, ``severity``)."""
        return {
            "code": self.code,
            "text": {"en": self.text.en, "zh": self.text.zh},
            "data": dict(self.data),
            "severity": self.severity,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Finding:
        """The finding :meth:`to_json` wrote."""
        text = raw["text"]
        return cls(
            code=str(raw["code"]),
            text=Text(str(text["en"]), str(text.get("zh", ""))),
            data=dict(raw.get("data", {})),
            severity=raw.get("severity", "warning"),
        )
