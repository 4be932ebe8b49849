"""The C heap of a process that follows live calls: freed memory goes back to the system.

A live call allocates and frees tens of MB from whichever threads serve it: its tracks' audio,
the utterances' copies, the recogniser's windows, the report's measurements and the recording
stored at hang-up. glibc keeps freed blocks inside its arenas and gives back only an arena's top,
which one small block still in use pins; and after the first large block is freed it raises the
size from which blocks get pages of their own (``mmap``, up to 32 MB), so the calls' large
buffers land in the arenas too. With calls back to back the server's resident memory then grew
by tens of MB a minute while the memory in use stayed flat (issue 15).

So, where the C library is glibc, a process that follows live calls (:func:`map_large_blocks`)
keeps blocks of :data:`MMAP_THRESHOLD` bytes or more on pages of their own, given back the
moment they are freed, and each call that hangs up hands the whole free pages of every arena
back (:func:`release_freed_memory`). Elsewhere (musl, macOS) both are no-ops.

The threshold is a trade. Pages of their own cost a system call and fresh zeroed pages at each
allocation, and the batch pipeline (in the same server) makes many short-lived arrays of 1-2 MB
(30 s Whisper windows, mel spectrograms): with the threshold at glibc's 128 KiB the batch
analysis of the bundled stereo sample took 13.7 s instead of 8.4 s, at 1 MB 11.4 s, at 2 MB
10.8 s, at 4 MB 8.7-9.6 s (noise). Eight 60 s calls back to back for 5 minutes on 2 cores:
resident memory at the end 1,033-1,075 MB as glibc left it, 663 MB with the 4 MB threshold and
the trim at hang-up (442 MB at 128 KiB), growing 6 MB a minute over the second half instead of
17-50.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

MMAP_THRESHOLD = 4 * 1024 * 1024
"""Blocks from this size on get pages of their own (4 MB: above the batch pipeline's 1-2 MB
working arrays, below a live call's track buffers and recordings), kept fixed.
``MALLOC_MMAP_THRESHOLD_`` in the environment, where set, wins."""
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def _libc() -> Any | None:
    """The process's C library when it is glibc (it has ``malloc_trim`` and ``mallopt``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def map_large_blocks() -> bool:
    """Keep blocks of :data:`MMAP_THRESHOLD` bytes or more on pages of their own from now on,
    process-wide (glibc ``mallopt(M_MMAP_THRESHOLD)``, which also stops glibc from raising the
    threshold). Whether it was set."""
    if _LIBC is None or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    return bool(_LIBC.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_freed_memory() -> None:
    """Give every whole free page of the C heap's arenas back to the system (glibc
    ``malloc_trim(0)``: some ms, more the more is free)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
