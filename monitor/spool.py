"""File-backed sample storage, so a long call never has to fit in memory.

A decoded call of 4 h is 1.8 GB of float32 at 16 kHz per two channels. :class:`SampleSpool`
keeps such a call in an anonymous temporary file instead (created, then unlinked at once, so
nothing is left behind whatever happens to the process; the space is freed when the last
reference to the samples goes), and hands out a read-only :class:`numpy.memmap` of shape
``(channels, n)``: every stage that takes an ``ndarray`` takes it unchanged, and the values are
exactly those an in-memory decode gives.

A memory mapping counts toward a process's resident memory for every page it touches, until
the pages are released. Stages that walk a long signal therefore read it a slice at a time with
:func:`read_span` (a copy in memory, the mapped pages dropped at once) or call :func:`release`
after working on a range. For an in-memory array both are free: :func:`read_span` returns a
view and :func:`release` does nothing, so short calls run exactly as before.
"""

from __future__ import annotations

import mmap
import os
import tempfile

import numpy as np

_ITEM = np.dtype(np.float32).itemsize

MIX_BLOCK = 1 << 22
"""Samples per channel read at a time when a spooled signal is mixed or copied (16 MB)."""


class SampleSpool:
    """Float32 samples of ``channels`` channels written to a temporary file as they come.

    Channel ``c`` occupies its own contiguous region, ``capacity`` samples long, of a sparse
    file: appending never moves data and unwritten space takes no disk. Writes go through the
    file, not the mapping, so they never count toward the process's resident memory.

    Args:
        channels: channel count.
        capacity: most samples per channel that will ever be appended.
        directory: where the temporary file is made (``None`` = the system's temporary
            directory, ``TMPDIR``); it should be on disk, not a RAM file system.
    """

    def __init__(self, channels: int, capacity: int, directory: str | None = None) -> None:
        if channels < 1 or capacity < 1:
            raise ValueError(f"need channels >= 1 and capacity >= 1, got {channels}, {capacity}")
        self.channels = channels
        self.capacity = capacity
        self.length = 0
        fd, name = tempfile.mkstemp(prefix="calmline-", suffix=".f32", dir=directory)
        os.unlink(name)  # lives while open or mapped; never left behind
        self._file = os.fdopen(fd, "r+b")
        self._file.truncate(channels * capacity * _ITEM)

    def append(self, chunk: np.ndarray) -> None:
        """Add float32 samples of shape (channels, k) after those already written."""
        if chunk.ndim != 2 or chunk.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, k) samples, got {chunk.shape}")
        k = chunk.shape[1]
        if self.length + k > self.capacity:
            raise ValueError(f"spool capacity of {self.capacity} samples per channel exceeded")
        fd = self._file.fileno()
        for c in range(self.channels):
            row = np.ascontiguousarray(chunk[c], dtype=np.float32)
            os.pwrite(fd, row.data, (c * self.capacity + self.length) * _ITEM)
        self.length += k

    def samples(self) -> np.ndarray:
        """The samples written so far: a read-only memmap view of shape (channels, length).

        The file is closed here (the mapping keeps its data); nothing more can be appended.
        """
        self._file.flush()
        full = np.memmap(
            self._file, dtype=np.float32, mode="r", shape=(self.channels, self.capacity)
        )
        self._file.close()
        return full[:, : self.length]

    def close(self) -> None:
        """Drop the file without mapping it (decoding failed)."""
        self._file.close()


def is_spooled(x: np.ndarray) -> bool:
    """Whether ``x`` is a view of a file mapping (:class:`numpy.memmap`)."""
    return getattr(x, "_mmap", None) is not None


def read_span(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``x[start:stop]`` of a 1-D signal: a view of an in-memory array; for a file-backed one a
    copy in memory, with the mapped pages it touched released."""
    if not is_spooled(x):
        return x[start:stop]
    out = np.array(x[start:stop])
    release(x, start, stop)
    return out


def release(x: np.ndarray, start: int = 0, stop: int | None = None) -> None:
    """Drop the resident pages of ``x[start:stop]`` (1-D) when ``x`` maps a file; no-op else.

    The data stays in the file (and the page cache); touching it again reads it back.
    """
    mm = getattr(x, "_mmap", None)
    if mm is None or x.ndim != 1 or not hasattr(mm, "madvise"):
        return
    part = x[start:stop]
    if part.size == 0:
        return
    base = np.frombuffer(mm, dtype=np.uint8).ctypes.data
    lo = part.ctypes.data - base
    hi = lo + part.size * part.strides[0] if part.strides[0] > 0 else lo + part.itemsize
    page = mmap.PAGESIZE
    lo, hi = lo // page * page, min(-(-hi // page) * page, len(mm))
    if hi > lo:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def spooled_mean(samples: np.ndarray, directory: str | None = None) -> np.ndarray:
    """Mean of the channels of a file-backed (channels, n) signal, itself spooled: a read-only
    float32 memmap (n,) with exactly the values ``samples.mean(axis=0, dtype=float32)`` has."""
    channels, n = samples.shape
    spool = SampleSpool(1, max(n, 1), directory)
    try:
        for lo in range(0, n, MIX_BLOCK):
            hi = min(lo + MIX_BLOCK, n)
            block = np.stack([read_span(samples[c], lo, hi) for c in range(channels)])
            spool.append(block.mean(axis=0, dtype=np.float32)[None, :])
    except BaseException:
        spool.close()
        raise
    return spool.samples()[0]
