"""Files uploaded for an import job, kept in the workspace before the job reads them.

上传文件：导入作业读取之前先存入工作区。

``WS/uploads/<sha256>/<name>``: content-addressed (the same bytes are kept once), the name
reduced to a plain file name (no folders, no control characters, at most 120 characters,
the ending kept: the importer reads the format from it). A job's parameters name the file
by this path relative to the workspace, and :func:`resolve` refuses any other path, so a
job can never be pointed at a file outside ``WS/uploads``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

from esgledger.errors import InputError, Issue, shown
from esgledger.ingest.readers import FORMATS

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "UPLOADS_DIR", "resolve", "store_upload"]

UPLOADS_DIR = "uploads"
#: Largest upload accepted by default [bytes] (the server's settings may lower or raise it).
DEFAULT_MAX_UPLOAD_BYTES = 200 * (1 << 20)
_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", "".join(ch for ch in base if ch.isprintable())).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:100] or "upload"
    return f"{stem}.{suffix[:15]}" if suffix else stem


def _refused(name: str, problem: str, fix: str) -> InputError:
    return InputError(
        f"{shown(name, 120)} was rejected: {problem}", [Issue(name, None, None, None, problem, fix)]
    )


def store_upload(
    workspace_root: Path, name: str, source: BinaryIO, *, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
) -> str:
    """Copy ``source`` into ``WS/uploads/<sha256>/<name>``; return that path relative to the
    workspace (what an import job's ``file`` parameter holds).

    Raises
    ------
    InputError
        If the file's ending is not one the importers read (CSV, XLSX, Parquet), or it is
        larger than ``max_bytes`` (nothing is kept).
    """
    safe = _safe_name(name)
    if Path(safe).suffix.lower() not in FORMATS:
        raise _refused(
            safe, "unsupported file type", "upload the file as CSV (UTF-8), XLSX or Parquet"
        )
    folder = workspace_root / UPLOADS_DIR
    folder.mkdir(exist_ok=True)
    temporary = folder / f".upload-{os.getpid()}-{secrets.token_hex(8)}.tmp"
    digest = hashlib.sha256()
    size = 0
    try:
        with temporary.open("wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise _refused(
                        safe,
                        f"the file is larger than the upload limit of {max_bytes:,} bytes",
                        "split the file, or import it with the command line",
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        target = folder / digest.hexdigest() / safe
        target.parent.mkdir(exist_ok=True)
        if not target.exists():
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target.relative_to(workspace_root).as_posix()


def resolve(workspace_root: Path, relative: str) -> Path:
    """The stored upload ``relative`` (``uploads/<sha256>/<name>``) as a path.

    Raises
    ------
    InputError
        If ``relative`` is not a file under ``WS/uploads`` (or does not exist).
    """
    folder = (workspace_root / UPLOADS_DIR).resolve()
    path = (workspace_root / relative).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise InputError(
            f"the import file {shown(relative, 120)} is not an uploaded file of this workspace",
            [
                Issue(
                    "",
                    None,
                    "file",
                    shown(relative, 120),
                    "not a file under uploads/",
                    "upload the file first (POST /api/v1/jobs with the file)",
                )
            ],
        )
    return path
