"""A job-queue replica for the lease tests: a real Store and JobRunner, with a stand-in for the
analysis (the tests are about the queue, not the models).

Run as a process of its own (another "server" on the same database)::

    python -m tests.lease_worker URL AUDIO_DIR LOG --lease 1.0 --delay 3.0

It runs jobs until killed; every analysis it starts and finishes is appended to ``LOG`` as
``start <call id> <pid>`` / ``end <call id> <pid>``.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from calmline.monitor.rubric import default_rubric
from calmline.monitor.scoring import score_report
from calmline.monitor.types import CallReport, Role


def scored_report(call_id: str) -> CallReport:
    """A small scored report with a critical finding (so it raises two webhook events)."""
    return replace(_scored(), call_id=call_id)


@functools.cache
def _scored() -> CallReport:
    from tests.test_redact import call

    A, C = Role.AGENT, Role.CUSTOMER
    report = call(
        "en",
        (A, 0.5, 4.0, "Thank you for calling, my name is David, how can I help you today?"),
        (C, 4.5, 9.0, "You people are useless and I have waited for an hour!"),
        (A, 9.5, 14.0, "You need to apologize to me first before I help you."),
        (C, 14.5, 16.0, "Fine."),
    )
    return score_report(report, default_rubric("en"))


class StubPipeline:
    """Has the pipeline's ``analyze(audio_path, request, hook=)``: reports progress through
    ``delay`` seconds, then returns :func:`scored_report`. Records each run."""

    def __init__(self, delay: float = 0.0, log: Path | None = None, steps: int = 10) -> None:
        self.delay = delay
        self.log = log
        self.steps = steps
        self.runs: list[str] = []
        self._lock = threading.Lock()

    def _note(self, what: str, call_id: str) -> None:
        with self._lock:
            if what == "start":
                self.runs.append(call_id)
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as f:
                    f.write(f"{what} {call_id} {os.getpid()}\n")

    def analyze(self, audio_path, request, hook=None) -> CallReport:
        self._note("start", request.call_id)
        for i in range(self.steps):
            if hook is not None:
                hook("transcribe", None, completed=i, total=self.steps)
            time.sleep(self.delay / self.steps)
        if hook is not None:
            hook("score", None, completed=1, total=1)
        self._note("end", request.call_id)
        return scored_report(request.call_id)


def read_log(path: Path) -> list[tuple[str, str, int]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        what, call_id, pid = line.split()
        out.append((what, call_id, int(pid)))
    return out


def main() -> None:
    from calmline.monitor.store import Store
    from calmline.pipelines.jobs import JobRunner

    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("audio_dir")
    p.add_argument("log")
    p.add_argument("--lease", type=float, default=1.0)
    p.add_argument("--delay", type=float, default=1.0)
    args = p.parse_args()
    store = Store(args.url, args.audio_dir)
    runner = JobRunner(
        store, StubPipeline(args.delay, Path(args.log)), lease_s=args.lease, poll_s=0.05
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.start()
    stop.wait()
    runner.stop()
    store.close()


if __name__ == "__main__":
    main()
