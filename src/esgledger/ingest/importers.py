"""The import dispatcher: one entry point for every kind of input file.

导入调度：按文件类型调用相应的导入程序。

The CLI (``esgledger import WS FILE --kind KIND``), the demo and the API call
:func:`import_file`; it hands the file to the importer of its kind:

==================  ========================================================================
kind                importer
==================  ========================================================================
``activities``      :func:`esgledger.ingest.activities.import_activities` (into the lake)
``entities``        :func:`esgledger.ingest.reference.import_entities`
``sites``           :func:`esgledger.ingest.reference.import_sites`
``activity-types``  :func:`esgledger.ingest.reference.import_activity_types`
``factors``         :func:`esgledger.ingest.reference.import_factors`
``fx``              :func:`esgledger.ingest.reference.import_fx`
``instruments``     :func:`esgledger.ingest.instruments.import_instruments`
``emissions-history`` :func:`esgledger.ingest.ambition.import_emissions_history`
``targets``         :func:`esgledger.ingest.ambition.import_targets` (a change: new revision)
``measures``        :func:`esgledger.ingest.ambition.import_measures`
``credits``         :func:`esgledger.ingest.ambition.import_credits`
``retirements``     :func:`esgledger.ingest.ambition.import_retirements`
``metrics``         :func:`esgledger.ingest.metrics.import_metrics` (company metric definitions)
``metric-values``   :func:`esgledger.ingest.metrics.import_metric_values`
``meters``          :func:`esgledger.energy.meters.import_meters` (a site's meter tree)
``readings``        :func:`esgledger.energy.readings.import_readings` (into the lake)
``weather``         :func:`esgledger.energy.weather.import_weather` (hourly outdoor conditions,
                    into the lake)
``trips``           :func:`esgledger.inclusion.trips.import_trips` (carbon-inclusion trips,
                    into the lake; account ids pseudonymised)
==================  ========================================================================

Every importer validates the whole file and either imports it whole, or raises
:class:`~esgledger.errors.InputError` with row-level issues and writes nothing. Importing the
same bytes again as the same kind is a no-op (``ImportResult.created`` is False).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from esgledger.access.principal import Principal
from esgledger.errors import InputError, Issue
from esgledger.ingest import ImportResult
from esgledger.ingest.batches import ImportContext, importing
from esgledger.ingest.readers import detect_format

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from esgledger.store import Workspace
    from esgledger.store.models import ImportBatch

__all__ = ["KINDS", "import_file"]

#: The kinds of file :func:`import_file` accepts, in the order a new workspace needs them.
KINDS: tuple[str, ...] = (
    "entities", "sites", "activity-types", "factors", "fx", "activities", "instruments",
    "emissions-history", "targets", "measures", "credits", "retirements", "metrics",
    "metric-values", "meters", "readings", "weather", "trips",
)  # fmt: skip

#: Module and function of each kind's importer.
_IMPORTERS: dict[str, tuple[str, str]] = {
    "entities": ("esgledger.ingest.reference", "import_entities"),
    "sites": ("esgledger.ingest.reference", "import_sites"),
    "activity-types": ("esgledger.ingest.reference", "import_activity_types"),
    "factors": ("esgledger.ingest.reference", "import_factors"),
    "fx": ("esgledger.ingest.reference", "import_fx"),
    "activities": ("esgledger.ingest.activities", "import_activities"),
    "instruments": ("esgledger.ingest.instruments", "import_instruments"),
    "emissions-history": ("esgledger.ingest.ambition", "import_emissions_history"),
    "targets": ("esgledger.ingest.ambition", "import_targets"),
    "measures": ("esgledger.ingest.ambition", "import_measures"),
    "credits": ("esgledger.ingest.ambition", "import_credits"),
    "retirements": ("esgledger.ingest.ambition", "import_retirements"),
    "metrics": ("esgledger.ingest.metrics", "import_metrics"),
    "metric-values": ("esgledger.ingest.metrics", "import_metric_values"),
    "meters": ("esgledger.energy.meters", "import_meters"),
    "readings": ("esgledger.energy.readings", "import_readings"),
    "weather": ("esgledger.energy.weather", "import_weather"),
    "trips": ("esgledger.inclusion.trips", "import_trips"),
}


class Importer(Protocol):
    def __call__(
        self, workspace: Workspace, path: Path, *, progress: bool = ...
    ) -> ImportResult: ...


def importer_for(kind: str) -> Importer:
    """The import function of ``kind`` (imported on first use).

    Raises
    ------
    InputError
        If ``kind`` is not one of :data:`KINDS`.
    """
    target = _IMPORTERS.get(kind)
    if target is None:
        raise InputError(
            f"cannot import files of kind {kind!r}: the kinds are {', '.join(KINDS)}",
            [
                Issue(
                    "",
                    None,
                    None,
                    kind,
                    "unknown import kind",
                    f"choose one of {', '.join(KINDS)}",
                )
            ],
        )
    module, function = target
    found: Importer = getattr(importlib.import_module(module), function)
    return found


def import_file(
    workspace: Workspace,
    kind: str,
    path: Path | str,
    *,
    progress: bool = False,
    sheet: str | None = None,
    principal: Principal | None = None,
    status: str = "approved",
    task_id: int | None = None,
    replaces: str | frozenset[str] | None = None,
    on_lock: Callable[[Session], object] | None = None,
    then: Callable[[Session, ImportBatch], object] | None = None,
) -> ImportResult:
    """Import one file of ``kind`` into ``workspace``, whole or not at all.

    Parameters
    ----------
    workspace
        The open workspace.
    kind
        One of :data:`KINDS`.
    path
        The file: CSV (UTF-8 or GB18030), XLSX or Parquet.
    progress
        Show a progress bar on stderr for large files.
    sheet
        For a workbook, the sheet to import; by default the one sheet whose header fits
        ``kind`` (see :mod:`esgledger.ingest.readers`). The result's message names the sheet.
    principal
        Who imports (named in the batch's ``imported_by`` and the audit event
        ``import.<kind>``); None: :meth:`Principal.local`, the CLI's actor.
    status
        The new batch's status: ``approved`` (enters calculations) or ``submitted``
        (awaits review; a collection task's submission).
    task_id
        The collection task the file answers, if any.
    replaces, on_lock, then
        For a correction (:func:`esgledger.batches.service.supersede`) or a task's
        resubmission: the batch(es) whose rows the cross-batch checks leave out, a check run
        once the write lock is held, and work done in the import's transaction.
        See :class:`~esgledger.ingest.batches.ImportContext`.

    Raises
    ------
    InputError
        If ``kind`` is unknown, or the file is rejected (with its row-level issues).
    """
    from esgledger.ingest.readers import sheet_choice, sheet_label

    path = Path(path)
    importer = importer_for(kind)
    if sheet is not None and detect_format(path) != "xlsx":
        raise InputError(
            f"{path.name} was rejected: --sheet applies to XLSX workbooks only",
            [Issue(path.name, None, None, sheet, "--sheet given for a file that is not XLSX")],
        )
    context = ImportContext(
        principal=principal if principal is not None else Principal.local(),
        status=status,
        task_id=task_id,
        replaces=frozenset({replaces} if isinstance(replaces, str) else replaces or ()),
        on_lock=on_lock,
        then=then,
    )
    with sheet_choice(sheet) as choice, importing(context):
        result = importer(workspace, path, progress=progress)
    if choice.used is not None and result.created:
        label = sheet_label(path.name, choice.used)
        message = result.message
        if label not in message:
            message = (
                message.replace(path.name, label, 1)
                if path.name in message
                else (f"{message.rstrip('.')} ({label}).")
            )
        result = replace(result, message=message)
    return result
