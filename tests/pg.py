"""A throw-away PostgreSQL server for tests (Debian's postgresql package; see
scripts/system-deps.sh). Runs as the ``postgres`` user when the tests run as root."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.server import free_port


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (run scripts/system-deps.sh)")
        self.bindir = bindir
        # its own folder: the postgres user cannot enter pytest's root-only temp folders
        self.root = Path(tempfile.mkdtemp(prefix="calmline-pg-"))
        self.data = self.root / "pgdata"
        self.sock = self.root / "sock"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def start(self) -> PostgresServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
            os.chmod(self.root, 0o755)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "calmline",
            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        # the port was free when picked, but another test run on this machine may take it before
        # PostgreSQL binds it: then try another
        for attempt in range(3):
            started = self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                "-l", str(self.root / "pg.log"),
                "-o", f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start", check=False,
            )  # fmt: skip
            if started.returncode == 0:
                break
            log = started.stderr
            if (self.root / "pg.log").exists():
                log += (self.root / "pg.log").read_text(errors="replace")
            if attempt == 2 or ("could not bind" not in log and "in use" not in log):
                raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log}")
            self.port = free_port()
        for _ in range(50):
            r = self._run(str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                          check=False)  # fmt: skip
            if r.returncode == 0:
                break
            time.sleep(0.2)
        self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "calmline", "calmline",
        )  # fmt: skip
        return self

    def url(self, database: str = "calmline") -> str:
        return f"postgresql+psycopg://calmline@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "calmline", name,
        )  # fmt: skip
        return self.url(name)

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop",
                  check=False)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
