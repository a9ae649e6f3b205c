"""The workspace's report inputs (``WS/report/``): report.toml, narratives, explanations.

报告输入（``WS/report/``）：report.toml、各章节叙述文字（Markdown）及不披露解释。

Layout (``docs/methodology/report.md``, "Report inputs")::

    WS/report/report.toml                    company, report, governance bodies, material topics,
                                             optional [green] hourly files
    WS/report/narratives/<section>.<lang>.md user Markdown per section and language (en, zh-CN)
    WS/report/explanations.csv               code, explanation_en, explanation_zh

Every file is read from inside the workspace: a file named in ``report.toml`` is a path
relative to ``WS/report`` that must end inside ``WS`` (``../inputs/load.csv`` is fine), links
followed; an absolute path, a ``..`` climbing out of ``WS`` or a link to a file elsewhere is
refused (``docs/hardening/organisation.md``). Files elsewhere are passed on the command line
(``esgledger green cfe LOAD SUPPLY``).

Every part is optional: a missing folder or file gives defaults (company name from the
workspace, no governance bodies, no topics) and the report shows placeholders, so a report
can always be drafted. Content that is present but wrong (a TOML syntax error, an unknown
key, a score outside 0-5, a narrative for an unknown section, an explanation for an unknown
code) raises one :class:`~esgledger.errors.InputError` naming the file, the line and the key,
never a half-read configuration.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from esgledger.errors import InputError, Issue

__all__ = [
    "NARRATIVE_SECTIONS",
    "OPTIONAL_SECTIONS",
    "REPORT_DIR",
    "CompanyConfig",
    "GovernanceBody",
    "GreenConfig",
    "MaterialTopic",
    "ReportConfig",
    "ReportInputs",
    "ReportMeta",
    "load_report_inputs",
]

REPORT_DIR = "report"
"""The folder of the report inputs inside a workspace."""

NARRATIVE_SECTIONS: tuple[str, ...] = (
    "about.profile",
    "about.principles",
    "about.boundary",
    "gov.board_statement",
    "gov.approach",
    "gov.structure",
    "gov.materiality",
    "inclusive.technology",
    "soc.product",
    "soc.privacy",
    "soc.minors",
    "soc.employment",
    "soc.health_safety",
    "soc.training",
    "soc.labour",
    "soc.supply_chain",
    "soc.anticorruption",
    "soc.community",
    "env.emissions",
    "env.resources",
    "env.environment",
    "env.climate",
    "climate.governance",
    "climate.strategy",
    "climate.risk_management",
    "climate.metrics",
    "climate.targets",
    "climate.transition_plan",
    "green.power",
    "green.datacentres",
)
"""Section ids a narrative file may name (``narratives/<id>.<lang>.md``)."""


def _optional_sections() -> tuple[str, ...]:
    from importlib import resources

    raw = resources.files("esgledger.report").joinpath("sections.csv").read_text(encoding="utf-8")
    return tuple(row["id"] for row in csv.DictReader(io.StringIO(raw)) if row["opt_in"] == "yes")


OPTIONAL_SECTIONS: tuple[str, ...] = _optional_sections()
"""Sections (``opt_in`` in ``report/sections.csv``) a report has only when its inputs ask for
them: listed in ``[report] sections``, or given a narrative, or (data centres) PUE figures.
They are the demo's internet-group chapters (inclusive technology, protection of minors,
data centres), which a new group's report should not inherit."""

_NARRATIVE_LANGS = ("en", "zh-CN")
_NARRATIVE_FILE = re.compile(r"^(?P<section>[a-z_.]+)\.(?P<lang>en|zh-CN)\.md$")
_EXPLANATION_COLUMNS = ("code", "explanation_en", "explanation_zh")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CompanyConfig(_Strict):
    """``[company]``: who reports.

    ``tier`` selects the HKEX Part D phase-in (``largecap``, ``main_board``, ``gem``);
    ``currency`` is the currency of the revenue metric used for intensities; ``entity`` the
    group entity whose ``revenue``/``employees`` divide (needed when several entities carry
    them).
    """

    name: str = Field(min_length=1)
    name_zh: str = ""
    stock_code: str | None = None
    tier: Literal["largecap", "main_board", "gem"] = "main_board"
    currency: str | None = None
    entity: str | None = None


class ReportMeta(_Strict):
    """``[report]``: title and boundary note, English and Chinese, and the optional sections
    the report includes (``sections``: ids of :data:`OPTIONAL_SECTIONS`)."""

    title: str = ""
    title_zh: str = ""
    boundary_note: str = ""
    boundary_note_zh: str = ""
    sections: tuple[str, ...] = ()

    @field_validator("sections")
    @classmethod
    def _known_optional_sections(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in OPTIONAL_SECTIONS]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} is not an optional section; use "
                + ", ".join(OPTIONAL_SECTIONS)
            )
        return value


class GovernanceBody(_Strict):
    """One ``[[governance]]`` body (board, committee, working group, office), top first."""

    id: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    name_zh: str = ""
    role: str = ""
    role_zh: str = ""
    chair: str = ""
    chair_zh: str = ""
    members: int | None = Field(default=None, ge=0)
    meetings: int | None = Field(default=None, ge=0)


class MaterialTopic(_Strict):
    """One ``[[materiality]]`` topic with its importance to stakeholders and the business
    [score 0-5] and the catalogue aspect it maps to (``B6``)."""

    topic: str = Field(min_length=1)
    topic_zh: str = ""
    aspect: str = ""
    stakeholders: float = Field(ge=0, le=5)
    business: float = Field(ge=0, le=5)


class GreenConfig(_Strict):
    """``[green]``: hourly files for the 24/7 CFE heat-map, relative to ``WS/report/``.

    ``hourly_load`` and ``hourly_supply``: CSV or Parquet with ``site``, ``hour`` and
    ``load_mwh`` / ``clean_mwh`` (as ``esgledger green cfe`` reads); ``grid_cfe``: carbon-free
    share of the grid [fraction 0-1]; ``pue``: power usage effectiveness of the data
    centres, site code -> PUE [dimensionless, ISO/IEC 30134-2], when measured.
    """

    hourly_load: str | None = None
    hourly_supply: str | None = None
    grid_cfe: float | None = Field(default=None, ge=0, le=1)
    pue: dict[str, float] = Field(default_factory=dict)


class ReportConfig(_Strict):
    """The whole ``report.toml``."""

    company: CompanyConfig
    report: ReportMeta = Field(default_factory=ReportMeta)
    governance: tuple[GovernanceBody, ...] = ()
    materiality: tuple[MaterialTopic, ...] = ()
    green: GreenConfig = Field(default_factory=GreenConfig)


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What ``WS/report/`` holds, validated.

    Attributes
    ----------
    config
        ``report.toml`` (defaults when absent).
    narratives
        Section id -> language -> Markdown text (only non-empty files).
    explanations
        Catalogue code -> (English, Chinese) explanation of an omission.
    folder
        ``WS/report``.
    defaults
        What was missing and replaced by defaults (for the CLI and the draft notes).
    """

    config: ReportConfig
    narratives: Mapping[str, Mapping[str, str]]
    explanations: Mapping[str, tuple[str, str]]
    folder: Path
    defaults: tuple[str, ...] = ()

    def narrative(self, section: str, lang: str) -> str | None:
        """The user's Markdown for ``section`` in ``lang``, or ``None``."""
        return self.narratives.get(section, {}).get(lang)

    def narrative_presence(self) -> dict[str, dict[str, bool]]:
        """Section -> language -> present (the content index's ``narratives`` argument)."""
        return {
            section: dict.fromkeys(by_lang, True) for section, by_lang in self.narratives.items()
        }

    def includes(self, section: str) -> bool:
        """Whether the report has ``section``: always for a standard section; for one of
        :data:`OPTIONAL_SECTIONS` only when ``[report] sections`` lists it, a narrative is
        given for it (in any language), or, for ``green.datacentres``, ``[green] pue`` has
        figures."""
        if section not in OPTIONAL_SECTIONS:
            return True
        return (
            section in self.config.report.sections
            or bool(self.narratives.get(section))
            or (section == "green.datacentres" and bool(self.config.green.pue))
        )

    def resolve(self, relative: str) -> Path:
        """A path of ``report.toml`` (relative to ``WS/report``; checked to stay inside the
        workspace by :func:`load_report_inputs`) as an absolute path."""
        path = Path(relative)
        return path if path.is_absolute() else self.folder / path


def _key_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the key at ``loc`` (``("governance", 1, "members")``) in TOML
    ``text``, found by scanning table headers; ``None`` when not found."""
    lines = text.splitlines()
    table: str | None = None
    index = -1
    wanted_table = str(loc[0]) if loc else ""
    wanted_index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    key = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
    header_line: int | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        array = re.fullmatch(r"\[\[\s*([A-Za-z0-9_.]+)\s*\]\]", line)
        single = re.fullmatch(r"\[\s*([A-Za-z0-9_.]+)\s*\]", line)
        if array:
            name = array.group(1)
            index = index + 1 if name == table else 0
            table = name
        elif single:
            table, index = single.group(1), -1
        else:
            if table != wanted_table or (wanted_index is not None and index != wanted_index):
                continue
            if re.match(rf"{re.escape(key)}\s*=", line):
                return number
            continue
        if table == wanted_table and (wanted_index is None or index == wanted_index):
            header_line = header_line or number
    return header_line


def _load_toml(path: Path, workspace_name: str) -> tuple[ReportConfig, list[str]]:
    file = f"{REPORT_DIR}/{path.name}"
    if not path.is_file():
        company = CompanyConfig(name=workspace_name or "The company")
        return ReportConfig(company=company), [f"{file} (defaults: company {company.name!r})"]
    text = path.read_text(encoding="utf-8")
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise InputError(
            f"{file} was rejected: it is not valid TOML",
            [
                Issue(
                    file,
                    int(found.group(1)) if found else None,
                    None,
                    None,
                    f"TOML syntax error: {exc}",
                    "fix the line (strings in double quotes, one key = value a line; "
                    "see docs/methodology/report.md)",
                )
            ],
        ) from exc
    defaults: list[str] = []
    if "company" not in data:
        data["company"] = {"name": workspace_name or "The company"}
        defaults.append(f"{file} [company] (defaults: company {data['company']['name']!r})")
    try:
        return ReportConfig.model_validate(data), defaults
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            key = ".".join(str(part) for part in loc)
            value = error.get("input")
            shown = None if isinstance(value, dict | list) else str(value)
            fix = {
                "extra_forbidden": "remove the key or correct its spelling "
                "(keys: docs/methodology/report.md)",
                "missing": "add the key",
            }.get(str(error["type"]), "correct the value")
            issues.append(
                Issue(file, _key_line(text, loc), key, shown, str(error["msg"]).lower(), fix)
            )
        raise InputError(f"{file} was rejected: {len(issues)} problem(s)", issues) from exc


def _load_narratives(folder: Path) -> dict[str, dict[str, str]]:
    narratives: dict[str, dict[str, str]] = {}
    if not folder.is_dir():
        return narratives
    issues: list[Issue] = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() or path.name.startswith("."):
            continue
        file = f"{REPORT_DIR}/narratives/{path.name}"
        if not _inside(folder.parent.parent, path):  # WS/report/narratives -> WS
            issues.append(
                Issue(
                    file, None, None, path.name, "the file is a link to a file outside the "
                    "workspace", "copy the file into the workspace's report folder",
                )
            )  # fmt: skip
            continue
        found = _NARRATIVE_FILE.match(path.name)
        if not found:
            issues.append(
                Issue(
                    file,
                    None,
                    None,
                    path.name,
                    "the file name is not <section>.<lang>.md",
                    "name it like soc.privacy.en.md or soc.privacy.zh-CN.md",
                )
            )
            continue
        section = found.group("section")
        if section not in NARRATIVE_SECTIONS:
            issues.append(
                Issue(
                    file,
                    None,
                    "section",
                    section,
                    "unknown report section",
                    "use one of " + ", ".join(NARRATIVE_SECTIONS),
                )
            )
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            issues.append(
                Issue(file, None, None, None, "the file is not UTF-8 text", "save it as UTF-8")
            )
            continue
        if text.strip():
            narratives.setdefault(section, {})[found.group("lang")] = text
    if issues:
        raise InputError(f"{REPORT_DIR}/narratives was rejected: {len(issues)} problem(s)", issues)
    return narratives


def _load_explanations(
    path: Path, known_codes: Collection[str] | None
) -> dict[str, tuple[str, str]]:
    if not path.is_file():
        return {}
    file = f"{REPORT_DIR}/{path.name}"
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    lacking = [name for name in _EXPLANATION_COLUMNS if name not in header]
    if lacking:
        raise InputError(
            f"{file} was rejected: columns {', '.join(lacking)} are missing",
            [
                Issue(
                    file,
                    1,
                    name,
                    None,
                    "the column is missing",
                    "the header must be code,explanation_en,explanation_zh",
                )
                for name in lacking
            ],
        )
    out: dict[str, tuple[str, str]] = {}
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        code = row["code"]
        if not code:
            issues.append(Issue(file, line, "code", None, "the code is empty", "give a code"))
            continue
        if known_codes is not None and code not in known_codes:
            issues.append(
                Issue(
                    file,
                    line,
                    "code",
                    code,
                    "not a code of the metric catalogue",
                    "use a catalogue code such as A2.5 (esgledger catalogue lists them)",
                )
            )
            continue
        if code in seen:
            issues.append(
                Issue(
                    file,
                    line,
                    "code",
                    code,
                    f"explained twice (also row {seen[code]})",
                    "keep one row per code",
                )
            )
            continue
        seen[code] = line
        for column in ("explanation_en", "explanation_zh"):
            if not row[column]:
                issues.append(
                    Issue(
                        file,
                        line,
                        column,
                        None,
                        "the explanation is empty",
                        "give the explanation in English and Chinese",
                    )
                )
        out[code] = (row["explanation_en"], row["explanation_zh"])
    if issues:
        raise InputError(f"{file} was rejected: {len(issues)} problem(s)", issues)
    return out


def _inside(root: Path, path: Path) -> bool:
    """Whether ``path``, its links followed, is inside the folder ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _refuse_outside(root: Path, paths: list[Path]) -> None:
    """Refuse report inputs that are links leading out of the workspace (a workspace file
    must not make esgledger read another file of the machine): the report folder first,
    then each of ``paths`` in it."""
    for group in ([root / REPORT_DIR], paths):
        outside = [p for p in group if (p.exists() or p.is_symlink()) and not _inside(root, p)]
        if outside:
            raise InputError(
                f"{REPORT_DIR} was rejected: report inputs must stay inside the workspace",
                [
                    Issue(
                        path.relative_to(root).as_posix(),
                        None,
                        None,
                        None,
                        "a link to a file or folder outside the workspace",
                        "copy it into the workspace's report folder",
                    )
                    for path in outside
                ],
            )


def _input_path_issues(root: Path, folder: Path, key: str, value: str) -> list[Issue]:
    """The problems of a file named in ``report.toml``: it must be a relative path that
    stays inside the workspace (``..`` may climb from ``WS/report`` as long as the path,
    its links followed, ends inside ``WS``) and an existing file."""
    file = f"{REPORT_DIR}/report.toml"
    if Path(value).is_absolute() or Path(value).drive:
        problem = "an absolute path: report inputs are read from inside the workspace only"
    elif not _inside(root, folder / value):
        problem = "the path leads outside the workspace: report inputs stay inside it"
    elif not (folder / value).is_file():
        problem = "the file does not exist"
    else:
        return []
    fix = "give a path relative to the report folder, to a file inside the workspace"
    return [Issue(file, None, key, value, problem, fix)]


def load_report_inputs(
    workspace_root: Path | str,
    *,
    workspace_name: str = "",
    known_codes: Collection[str] | None = None,
) -> ReportInputs:
    """Read and validate ``WS/report/``.

    Parameters
    ----------
    workspace_root
        The workspace folder.
    workspace_name
        The workspace's name: the company name when ``report.toml`` gives none.
    known_codes
        Catalogue codes an explanation may name (``None``: not checked).

    Returns
    -------
    ReportInputs
        With defaults for whatever is absent (listed in :attr:`ReportInputs.defaults`).

    Raises
    ------
    InputError
        Something present is wrong; every issue names the file, line (when known) and key.
    """
    root = Path(workspace_root)
    folder = root / REPORT_DIR
    inputs = ("report.toml", "explanations.csv", "narratives")
    _refuse_outside(root, [folder / name for name in inputs])
    config, defaults = _load_toml(folder / "report.toml", workspace_name)
    narratives = _load_narratives(folder / "narratives")
    if not narratives:
        defaults.append(f"{REPORT_DIR}/narratives (none: every section shows a placeholder)")
    explanations = _load_explanations(folder / "explanations.csv", known_codes)
    green = config.green
    issues = [
        issue
        for key, value in (
            ("hourly_load", green.hourly_load),
            ("hourly_supply", green.hourly_supply),
        )
        if value is not None
        for issue in _input_path_issues(root, folder, f"green.{key}", value)
    ]
    if (green.hourly_load is None) != (green.hourly_supply is None):
        issues.append(
            Issue(
                f"{REPORT_DIR}/report.toml",
                None,
                "green",
                None,
                "hourly_load and hourly_supply go together",
                "give both files or neither",
            )
        )
    if issues:
        raise InputError(f"{REPORT_DIR}/report.toml was rejected: {len(issues)} problem(s)", issues)
    return ReportInputs(
        config=config,
        narratives=narratives,
        explanations=explanations,
        folder=folder,
        defaults=tuple(defaults),
    )
