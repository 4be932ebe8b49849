"""Who holds a job: owner ids that are unique per process, and whether an owner is gone.

A running job (and a webhook delivery being sent) carries its owner's id and a lease expiry.
Another replica takes the work over only once the lease has expired; the owner keeps it alive
with heartbeats. The owner id names the process that holds it::

    <host>:<pid>:<token>/<thread>

``host`` is the host name with the Linux PID namespace (``box-1#4026531836``), so two
containers that share a host name but not a PID table never take one another for the same
process table; ``token`` is random per process, so a process that reuses an earlier one's pid
(pid 1 in a restarted container) is still another owner.

At start-up a server may take back at once the jobs of an earlier process *on the same host
and PID table* that is no longer running (:func:`owner_is_gone`): a single machine restarted
after a crash resumes its jobs without waiting for their leases. Any other owner is judged by
its lease only.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading

OWNER_MAX = 64
"""The width of the ``jobs.worker`` and ``webhook_outbox.owner`` columns."""

_TOKEN = secrets.token_hex(3)


def _pid_namespace() -> str | None:
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return None
    return link.rsplit("[", 1)[-1].rstrip("]") or None


def host_id() -> str:
    """This process's host: its host name (at most 16 characters) and PID namespace."""
    name = (socket.gethostname() or "host").replace(":", "-").replace("/", "-")[:16]
    ns = _pid_namespace()
    return f"{name}#{ns}" if ns else name


def process_id() -> str:
    """``<host>:<pid>:<token>``: one process, unique even where pids are reused."""
    return f"{host_id()}:{os.getpid()}:{_TOKEN}"


def owner_id(worker: str | None = None) -> str:
    """The owner id of one worker of this process (default: the current thread's name)."""
    worker = worker or threading.current_thread().name
    base = process_id()
    return f"{base}/{worker}"[:OWNER_MAX]


def owner_is_gone(owner: str | None) -> bool:
    """Whether ``owner`` is certainly not running: a process of this host and PID table that
    has exited, or an earlier process with this process's pid. Anything else (another host, a
    live pid, an id in another format) is not known to be gone."""
    if not owner:
        return False
    head = owner.split("/", 1)[0]
    parts = head.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host_id():
        return False
    _, pid_text, token = parts
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return token != _TOKEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else
        return False
    return False
