"""Watched-folder ingest for PBX exports: ``calmline serve --watch DIR``.

A call file that has stopped changing for ``settle_s`` is copied into the audio store (the
local audio folder or ``storage.audio_url``, as uploads are) and queued for analysis. Its
metadata (``agent_id``, ``call_id``, ``started_at`` and anything else) comes from a sidecar JSON
(``<file>.json`` or ``<stem>.json``) or, failing that, from the file-name pattern (a regex with
named groups). Ingested files move to ``DIR/processed/``; files that cannot be ingested (no
agent id, a call id already stored, unreadable sidecar) move to ``DIR/rejected/`` with a
``.error.txt`` saying why. Nothing is deleted.

Several servers may watch the same (shared) folder: one leads and ingests, the others stand by.
On PostgreSQL the leader holds a session advisory lock (``pg_try_advisory_lock``) on a
connection of its own; when it stops or dies its connection closes, the lock goes with it, and
a standing-by server takes the lead at its next poll. On SQLite (one machine) the watcher
always leads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from calmline.monitor.audio import AUDIO_SUFFIXES
from calmline.monitor.audiostore import AudioStore, LocalAudioStore
from calmline.monitor.store import Store

logger = logging.getLogger(__name__)


class MetadataError(ValueError):
    """The call's metadata cannot be worked out; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class CallMetadata:
    agent_id: str
    call_id: str
    started_at: datetime | None
    language: str | None
    extra: dict[str, Any]


def parse_started_at(value: str | None) -> datetime | None:
    """ISO 8601 or the compact ``YYYYmmddTHHMMSS`` form of PBX file names."""
    if not value:
        return None
    for fmt in ("%Y%m%dT%H%M%S", "%Y%m%d%H%M%S", "%Y%m%d-%H%M%S"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise MetadataError(f"started_at {value!r} is not an ISO 8601 time") from e


def sidecar_for(path: Path) -> Path | None:
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    return None


def read_metadata(path: Path, pattern: str) -> CallMetadata:
    """Metadata of one exported call file: sidecar JSON first, then the name pattern."""
    data: dict[str, Any] = {}
    sidecar = sidecar_for(path)
    if sidecar is not None:
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise MetadataError(f"{sidecar}: not a readable JSON object ({e})") from e
        if not isinstance(data, dict):
            raise MetadataError(f"{sidecar}: expected a JSON object")
    else:
        m = re.fullmatch(pattern, path.stem)
        if m is None:
            raise MetadataError(
                f"{path.name}: no sidecar JSON and the name does not match the pattern {pattern!r}"
            )
        data = {k: v for k, v in m.groupdict().items() if v is not None}
    agent_id = str(data.pop("agent_id", "") or "").strip()
    if not agent_id:
        raise MetadataError(f"{path.name}: no agent_id in the sidecar JSON or the file name")
    call_id = str(data.pop("call_id", "") or "").strip() or f"{path.stem}-{uuid.uuid4().hex[:8]}"
    started = data.pop("started_at", None)
    language = data.pop("language", None)
    return CallMetadata(
        agent_id=agent_id,
        call_id=call_id,
        started_at=parse_started_at(str(started)) if started else None,
        language=language if language in ("zh", "en") else None,
        extra=data,
    )


class LeaderLock:
    """Leadership among replicas that share one database: a PostgreSQL session advisory lock
    named ``name``, held on a dedicated connection for as long as the leader lives. On any
    other database the caller always leads (one machine).

    :meth:`lead` is called every poll: it takes the lock when free, and checks that the held
    one is still there (a connection lost is a lead lost: the server released the lock).
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: Connection | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        return not self.shared or self._conn is not None

    def lead(self) -> bool:
        """Whether this process leads now (taking the lock when it is free)."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except Exception:
                logger.warning("leader lock %r: connection lost; no longer leading", self.name)
                self._drop()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        """Give the lead up (the next poll of another replica takes it)."""
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:
            logger.warning("leader lock %r: unlock failed; closing its connection", self.name)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # closed for good, not returned to the pool: a session lock must never outlive
            # its holder in a pooled connection
            try:
                conn.invalidate()
            finally:
                conn.close()


class FolderWatcher:
    """Polls ``folder`` and queues every settled call file it finds (while it leads)."""

    def __init__(
        self,
        folder: str | Path,
        store: Store,
        *,
        audio_store: AudioStore | None = None,
        pattern: str,
        poll_s: float = 2.0,
        settle_s: float = 1.0,
        on_queued=None,
        lock_name: str = "calmline:watch",
    ) -> None:
        self.folder = Path(folder)
        self.leader = LeaderLock(store.engine, lock_name)
        self.leading = False
        self.store = store
        self.audio_store = audio_store or LocalAudioStore(store.audio_dir)
        """Where ingested files are copied (``storage.audio_url``), as uploads are."""
        self.pattern = pattern
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.on_queued = on_queued
        self._seen: dict[Path, tuple[int, float, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.folder.mkdir(parents=True, exist_ok=True)
        for sub in ("processed", "rejected"):
            (self.folder / sub).mkdir(exist_ok=True)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="calmline-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if self._lead():
                        self.scan()
                except Exception:
                    logger.exception("watched folder %s: scan failed", self.folder)
                self._stop.wait(self.poll_s)
        finally:
            self.leader.release()
            self.leading = False

    def _lead(self) -> bool:
        try:
            leads = self.leader.lead()
        except Exception:
            logger.exception("watched folder %s: cannot reach the database", self.folder)
            leads = False
        if leads != self.leading and self.leader.shared:
            if leads:
                logger.info("watched folder %s: this server leads", self.folder)
            else:
                logger.warning("watched folder %s: lead lost; standing by", self.folder)
                self._seen.clear()
        self.leading = leads
        return leads

    def scan(self, now: float | None = None) -> list[str]:
        """One pass over the folder; returns the ids of calls queued."""
        import time

        now = time.monotonic() if now is None else now
        queued = []
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            st = path.stat()
            sig = (st.st_size, st.st_mtime)
            prev = self._seen.get(path)
            if prev is None or prev[:2] != sig:
                self._seen[path] = (*sig, now)
                if self.settle_s > 0:
                    continue
            elif now - prev[2] < self.settle_s:
                continue
            self._seen.pop(path, None)
            call_id = self.ingest(path)
            if call_id:
                queued.append(call_id)
        return queued

    def ingest(self, path: Path) -> str | None:
        """Copy one file into the store and queue it; move it aside either way."""
        sidecar = sidecar_for(path)
        try:
            meta = read_metadata(path, self.pattern)
            if self.store.call_exists(meta.call_id):
                raise MetadataError(f"{path.name}: call {meta.call_id} is already stored")
            # copied into the audio store (the file itself moves to processed/ below)
            target = self.audio_store.put(
                meta.call_id, f"audio{path.suffix.lower()}", path, keep_source=True
            )
            from calmline.pipelines.batch import AnalyzeRequest
            from calmline.pipelines.jobs import analyze_params

            try:
                self.store.create_call(
                    meta.call_id,
                    meta.agent_id,
                    "watch",
                    started_at=meta.started_at,
                    metadata={**meta.extra, "file": path.name},
                    audio_path=target,
                    audio_name=path.name,
                    language=meta.language,
                    job_params=analyze_params(AnalyzeRequest(language=meta.language)),
                )
            except Exception:
                self.audio_store.delete(target)
                raise
        except MetadataError as e:
            logger.warning("watched folder: %s", e)
            self._move(path, sidecar, "rejected", reason=str(e))
            return None
        self._move(path, sidecar, "processed")
        logger.info("watched folder: queued %s as call %s", path.name, meta.call_id)
        if self.on_queued is not None:
            self.on_queued(meta.call_id)
        return meta.call_id

    def _move(self, path: Path, sidecar: Path | None, where: str, reason: str | None = None):
        dest = self.folder / where
        target = dest / path.name
        if target.exists():
            target = dest / f"{path.stem}-{uuid.uuid4().hex[:6]}{path.suffix}"
        shutil.move(str(path), target)
        if sidecar is not None and sidecar.exists():
            shutil.move(str(sidecar), dest / f"{target.name}.json")
        if reason:
            (dest / f"{target.name}.error.txt").write_text(reason + "\n", encoding="utf-8")
