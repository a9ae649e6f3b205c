"""Stand-in for the core's ``energy/findings.py`` (issue 14 contract); the core's wins on merge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from esgledger.i18n import Text

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    """A dotted code, bilingual text and the data that reproduces it."""

    code: str
    text: Text
    data: Mapping[str, Any] = field(default_factory=dict)
    severity: Literal["info", "warning", "error"] = "warning"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text": {"en": self.text.en, "zh-CN": self.text.zh},
            "data": dict(self.data),
            "severity": self.severity,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Finding:
        text = value["text"]
        return cls(
            code=str(value["code"]),
            text=Text(str(text["en"]), str(text.get("zh-CN", ""))),
            data=dict(value.get("data") or {}),
            severity=value.get("severity", "warning"),
        )
