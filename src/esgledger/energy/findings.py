"""Findings: what an energy computation noticed, in both languages, with the data that
reproduces it.

发现项：能源计算中发现的问题（中英双语），附可复现的数据。

A finding has a dotted ``code`` (``energy.<area>.<what>``), a bilingual ``text``, the
``data`` that reproduces it and a ``severity``. Results that can be computed only in part
carry their findings instead of clamping or falling back silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from esgledger.i18n import Text

__all__ = ["Finding", "Severity"]

Severity = Literal["info", "warning", "error"]
_SEVERITIES: tuple[str, ...] = ("info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a computation noticed (see the module docstring)."""

    code: str
    text: Text
    data: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = "warning"

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(_SEVERITIES)}")
        if not self.code.startswith("energy."):
            raise ValueError(f"finding codes start with 'energy.': {self.code!r}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``from_json`` reads it back)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "text": {"en": self.text.en, "zh-CN": self.text.zh},
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        text = data["text"]
        return cls(
            code=str(data["code"]),
            text=Text(str(text["en"]), str(text.get("zh-CN", ""))),
            data=dict(data.get("data") or {}),
            severity=data.get("severity", "warning"),
        )
