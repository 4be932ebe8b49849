"""A real Calmline server for tests: ``calmline serve`` in a subprocess on 127.0.0.1.

    with CalmlineServer(tmp_path, cache_dir) as server:
        key = server.key("admin")
        r = server.client(key).get("/api/v1/calls")

The server is a separate process, so tests can kill it (SIGKILL) and start it again on the same
data directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from calmline.monitor.store import Store

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CalmlineServer:
    def __init__(
        self,
        data_dir: Path,
        cache_dir: Path,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir)
        self.workers = workers
        self.extra_env = env or {}
        self.args = args or []
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"
        self._store: Store | None = None

    # -- process

    def start(self, timeout: float = 120.0) -> CalmlineServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "CALMLINE_STORAGE__DATA_DIR": str(self.data_dir),
            "CALMLINE_CACHE_DIR": str(self.cache_dir),
            "CALMLINE_JOBS__POLL_S": "0.2",
            **self.extra_env,
        }
        cmd = [
            sys.executable,
            "-m",
            "calmline",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            *self.args,
        ]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start in {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def send(self, sig: int) -> None:
        """Send ``sig`` to the server process (SIGSTOP / SIGCONT pause and resume it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def terminate(self, timeout: float = 60.0) -> None:
        """SIGTERM (what an orchestrator sends): the server shuts down as it does on SIGINT,
        finishing the jobs in hand; SIGKILL if it has not exited within ``timeout``."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.send_signal(signal.SIGCONT)  # a paused server must wake to shut down
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a server left paused could not shut down
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._store is not None:
            self._store.close()
            self._store = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> CalmlineServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- data

    @property
    def store(self) -> Store:
        """The server's store, opened from the test process (same database file)."""
        if self._store is None:
            self._store = Store(
                f"sqlite:///{self.data_dir / 'calmline.db'}", self.data_dir / "audio"
            )
        return self._store

    def key(self, role: str, agent_id: str | None = None) -> str:
        return self.store.create_api_key(role, agent_id).key

    def client(self, key: str | None = None, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def upload(self, key: str, path: Path, agent_id: str, **fields: Any) -> httpx.Response:
        data = {"agent_id": agent_id, **{k: str(v) for k, v in fields.items()}}
        with self.client(key) as c, path.open("rb") as f:
            return c.post("/api/v1/calls", data=data, files={"file": (path.name, f)})

    def wait_job(self, key: str, job_id: str, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.client(key) as c:
            while time.monotonic() < deadline:
                job = c.get(f"/api/v1/jobs/{job_id}").json()
                if job["state"] in ("done", "failed"):
                    return job
                time.sleep(0.25)
        raise TimeoutError(f"job {job_id} not finished in {timeout} s:\n{self.log()[-3000:]}")
