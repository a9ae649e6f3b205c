"""Long jobs: imports of large files, calculations and reports run by a worker pool, so that
no request waits for them.

长时间作业：大文件导入、计算与报告由工作池在后台运行，请求无需等待。

* :mod:`esgledger.jobs.service` — submit, get, list, cancel (the faces call these);
* :mod:`esgledger.jobs.worker` — :class:`~esgledger.jobs.worker.WorkerPool` and the recovery
  of jobs a stopped worker left running;
* :mod:`esgledger.jobs.handlers` — what each kind of job calls in the domain;
* :mod:`esgledger.jobs.uploads` — files kept in the workspace for import jobs.

See ``docs/platform/jobs.md``.
"""

from __future__ import annotations
