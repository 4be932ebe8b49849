"""A real Ray cluster on this machine for tests and benchmarks: ``ray start`` for a head and for
each worker node, every one a process tree of its own.

    with RayCluster(tmp) as cluster:
        cluster.add_node(num_cpus=1)
        env = cluster.env  # for a driver: the token and the address
        ...
        cluster.kill_node(node)  # SIGKILL to that node's raylet and its workers

Several nodes share 127.0.0.1, so every port a node opens is picked free here, and the cluster
keeps its session files and its auth token in its own folder: it never meets another Ray on the
machine, and stopping it stops only its own processes (never ``ray stop``, which stops every
Ray the user runs).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.server import free_port

RAY = Path(sys.executable).parent / "ray"


@dataclass
class RayNode:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc.poll() is None


def _distinct_free_ports(n: int, taken: int) -> list[int]:
    """``n`` different ports, each free when picked, none of them ``taken``."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port != taken and port not in ports:
            ports.append(port)
    return ports


class RayCluster:
    def __init__(self, root: Path | None = None, *, head_cpus: int = 0) -> None:
        # Ray's sockets live under its temp dir: a short path keeps them under the 107-byte
        # limit of a Unix socket name
        self.temp = Path(tempfile.mkdtemp(prefix="clray-", dir="/tmp"))
        self.root = Path(root) if root else self.temp
        self.root.mkdir(parents=True, exist_ok=True)
        self.head_cpus = head_cpus
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[RayNode] = []
        self._names = threading.Lock()
        self._count = 0
        self.env = {
            **os.environ,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(16),
            "RAY_USAGE_STATS_ENABLED": "0",
            # a node that stops answering is declared dead after ~3 s, not 15-30 s
            "RAY_health_check_period_ms": "1000",
            "RAY_health_check_timeout_ms": "1000",
            "RAY_health_check_failure_threshold": "3",
        }

    def _node_args(self) -> list[str]:
        # each port free now and no two alike: the kernel can hand the same free port out twice
        # in a row, and Ray refuses a node whose components share one
        ports = _distinct_free_ports(18, taken=self.port)
        workers = ",".join(str(p) for p in ports[6:])
        return [
            "--node-ip-address", "127.0.0.1",
            "--node-manager-port", str(ports[0]),
            "--object-manager-port", str(ports[1]),
            "--worker-port-list", workers,
            "--dashboard-agent-listen-port", str(ports[2]),
            "--dashboard-agent-grpc-port", str(ports[3]),
            "--runtime-env-agent-port", str(ports[4]),
            "--metrics-export-port", str(ports[5]),
            "--object-store-memory", str(96 * 1024 * 1024),
            "--disable-usage-stats",
            "--include-log-monitor=false",
            "--block",
        ]  # fmt: skip

    def _start(self, name: str, args: list[str], timeout: float, tries: int = 3) -> RayNode:
        """Start one node; again (up to ``tries``) when Ray gave up on it: a raylet must
        register within 30 s, which a machine busy with other work can miss, and a port picked
        free can be taken by another program before the node binds it."""
        log_path = self.root / f"ray-{name}.log"
        for attempt in range(tries):
            log_path.unlink(missing_ok=True)
            with log_path.open("ab") as log:
                proc = subprocess.Popen(
                    [str(RAY), "start", *args, *self._node_args()],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: killed as one, never ours
                )
            node = RayNode(name, proc, log_path)
            self.nodes.append(node)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if "Ray runtime started" in node.log():
                    return node
                time.sleep(0.2)
            _kill_tree(proc.pid)
            self.nodes.remove(node)
            again = ("timed out during startup", "used by other components")
            if not any(why in node.log() for why in again) or attempt == tries - 1:
                break
        raise RuntimeError(f"ray node {name} did not start:\n{node.log()}")

    def start(self, timeout: float = 90.0) -> RayCluster:
        head = ["--head", "--port", str(self.port), "--num-cpus", str(self.head_cpus)]
        head += ["--include-dashboard=false", "--temp-dir", str(self.temp)]
        self._start("head", head, timeout)
        return self

    def add_node(self, num_cpus: int = 1, timeout: float = 90.0) -> RayNode:
        with self._names:
            self._count += 1
            name = f"worker{self._count}"
        return self._start(name, ["--address", self.address, "--num-cpus", str(num_cpus)], timeout)

    def add_nodes(self, n: int, num_cpus: int = 1, timeout: float = 90.0) -> list[RayNode]:
        """``n`` worker nodes, one after the other (side by side they can starve each other)."""
        return [self.add_node(num_cpus, timeout) for _ in range(n)]

    def driver_env(self) -> dict[str, str]:
        """What a process joining the cluster needs in its environment (the auth token)."""
        return {k: v for k, v in self.env.items() if k.startswith("RAY_")}

    def kill_node(self, node: RayNode) -> None:
        """SIGKILL to the node's whole process tree (raylet, its workers and actors): a machine
        that lost power, as far as the rest of the cluster can tell."""
        _kill_tree(node.proc.pid)
        node.proc.wait(10)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            if node.alive():
                _kill_tree(node.proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.proc.wait(10)
            _kill_tree(node.proc.pid)  # what ignored SIGTERM, and orphans of the node
        shutil.rmtree(self.temp, ignore_errors=True)

    def __enter__(self) -> RayCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal ``pid``, its descendants and its process group (the node's session)."""
    procs: list[psutil.Process] = []
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # start_new_session: the group id is the node's pid
