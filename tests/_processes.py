"""One ``esgledger`` command in a real process, for the concurrency and kill tests: its
stderr is read as it comes, to see the ``paused at POINT`` line of the test hook
(``ESGLEDGER_TEST_PAUSE_AT``, documented in ``esgledger.ingest.batches``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence


class Cli:
    """``python -m esgledger ARGS`` with ``env`` added to the environment (``ESGLEDGER_DEBUG``
    removed); every wait is bounded by ``limit`` seconds (a bound, not a measurement)."""

    def __init__(
        self, args: Sequence[str], *, limit: float, capture_stdout: bool = True, **env: str
    ) -> None:
        environment = {k: v for k, v in os.environ.items() if k != "ESGLEDGER_DEBUG"}
        environment.update(env)
        self.limit = limit
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "esgledger", *args],
            stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self.err: list[str] = []
        self.paused = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            if line.startswith("paused at "):
                self.paused.set()
        self.proc.stderr.close()
        self.paused.set()  # ended without pausing: finish() shows why

    def wait_paused(self) -> None:
        assert self.paused.wait(self.limit), "the process neither paused nor ended"
        assert self.proc.poll() is None, f"ended before pausing: {self.finish()}"

    def finish(self) -> tuple[int, str, str]:
        """Wait for the end: (exit code, stdout, stderr)."""
        code = self.proc.wait(self.limit)
        out = ""
        if self.proc.stdout is not None:
            out = self.proc.stdout.read()
            self.proc.stdout.close()
        self._reader.join(self.limit)
        return code, out, "".join(self.err)

    def kill(self) -> None:
        """kill -9 (if it still runs) and wait for the end."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(self.limit)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._reader.join(self.limit)
