"""Where call audio is kept: a local folder (the default) or any fsspec URL.

A call's ``audio_path`` column holds the URI :meth:`AudioStore.put` returned: a plain absolute
path for the local folder (the layout of :meth:`Store.call_audio_dir
<calmline.monitor.store.Store.call_audio_dir>`, so rows written before this module existed
read as they always did), a URL such as ``file:///mnt/shared/audio/...`` or
``s3://bucket/calls/...`` otherwise. The URI is self-describing, so a worker on another machine
reads the audio with nothing but the URI and the store's settings; a plain path in an old row
still resolves to the local file whatever store is configured.

Decoders need a file on disk (FFmpeg seeks), so :meth:`AudioStore.local_path` hands out the
file itself for local stores and a temporary download, removed afterwards, for remote ones.
Every transfer is streamed in chunks: memory does not grow with the recording.

S3-compatible object stores need ``s3fs`` (the ``s3`` extra); their endpoint and credentials
come from ``storage.audio_options`` (fsspec storage options, e.g. ``{"endpoint_url": ...}``) or
from the usual AWS environment variables and files.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import fsspec
import numpy as np
from fsspec.implementations.local import LocalFileSystem

from calmline.monitor.store import call_folder_name

CHUNK = 1024 * 1024
"""Bytes copied at a time between streams."""


class AudioStore:
    """Call audio behind one interface, on an fsspec filesystem.

    Files go in one folder per call (``<root>/<safe id>~<id hash>/<stem>-<random><suffix>``),
    each writer's name its own, so two writers of one call id never meet. Reads accept any URI
    this store or an earlier one wrote, plain local paths included.
    """

    def __init__(
        self,
        fs: fsspec.AbstractFileSystem,
        root: str,
        *,
        options: dict[str, Any] | None = None,
        scratch_dir: str | None = None,
    ) -> None:
        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.options = dict(options or {})
        self.scratch_dir = scratch_dir
        self.local = isinstance(fs, LocalFileSystem)

    @property
    def url(self) -> str:
        """Where new audio goes (for logs and the health page)."""
        return self.fs.unstrip_protocol(self.root)

    # ------------------------------------------------------------------ writing

    def put(
        self,
        call_id: str,
        name: str,
        source: BinaryIO | str | os.PathLike[str],
        *,
        keep_source: bool = False,
    ) -> str:
        """Store one recording of ``call_id`` and return its URI.

        ``name`` gives the stem and suffix (``audio.wav``); ``source`` is a readable binary
        stream, or a local file that is moved (local store; copied with ``keep_source``) or
        uploaded (remote) in chunks. A failed write leaves nothing behind.
        """
        stem, suffix = _stem_suffix(name)
        folder = f"{self.root}/{call_folder_name(call_id)}"
        target = f"{folder}/{stem}-{secrets.token_hex(4)}{suffix}"
        self.fs.makedirs(folder, exist_ok=True)
        if self.local:
            self._put_local(source, target, keep_source)
        elif isinstance(source, str | os.PathLike):
            # s3fs sends 50 MB parts by default, each held in memory: 8 MB bounds an upload
            extra = {"chunksize": 8 * CHUNK} if "s3" in self._protocols() else {}
            self.fs.put_file(os.fspath(source), target, **extra)
        else:
            # an object appears only when its upload completes, so no temporary name is needed
            try:
                with self.fs.open(target, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
            except BaseException:
                with suppress(Exception):
                    self.fs.rm_file(target)
                raise
        return self._uri(target)

    def _put_local(
        self, source: BinaryIO | str | os.PathLike[str], target: str, keep_source: bool
    ) -> None:
        """Write under a temporary name and rename: a crash never leaves half a file standing
        at a name a call row could hold."""
        part = Path(target).with_name(f".{Path(target).name}.part")
        try:
            if isinstance(source, str | os.PathLike) and keep_source:
                shutil.copyfile(os.fspath(source), part)
            elif isinstance(source, str | os.PathLike):
                shutil.move(os.fspath(source), part)
            else:
                with part.open("wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)

    def put_wav(
        self,
        call_id: str,
        name: str,
        samples: np.ndarray,
        sample_rate: int,
        *,
        spool_dir: str | os.PathLike[str],
    ) -> str:
        """Store float32 (channels, n) samples as a 16-bit PCM WAV and return its URI (a live
        call's recording). The file is written in ``spool_dir`` first (for a local store a
        folder on its filesystem, so storing it is a rename) and never left there."""
        from calmline.monitor.audio import write_wav

        spool = Path(spool_dir)
        spool.mkdir(parents=True, exist_ok=True)
        tmp = spool / f"{secrets.token_hex(8)}.wav"
        try:
            write_wav(samples, sample_rate, tmp)
            return self.put(call_id, name, tmp)
        finally:
            tmp.unlink(missing_ok=True)

    def _uri(self, path: str) -> str:
        # the local folder keeps plain paths (as every row before URIs); a file:// store URLs
        return path if type(self) is LocalAudioStore else self.fs.unstrip_protocol(path)

    # ------------------------------------------------------------------ reading

    def open(self, uri: str) -> BinaryIO:
        """The stored file, opened for reading (seekable). Raises FileNotFoundError."""
        fs, path = self._resolve(uri)
        return fs.open(path, "rb")

    @contextmanager
    def local_path(self, uri: str) -> Iterator[Path]:
        """A local file with the recording's bytes, for decoders that need one: the file
        itself on a local filesystem, else a download (same file name) removed on exit."""
        fs, path = self._resolve(uri)
        if isinstance(fs, LocalFileSystem):
            yield Path(path)
            return
        if not fs.isfile(path):
            raise FileNotFoundError(f"{uri}: no such stored audio")
        with tempfile.TemporaryDirectory(prefix="calmline-audio-", dir=self.scratch_dir) as tmp:
            local = Path(tmp) / (PurePosixPath(path).name or "audio")
            fs.get_file(path, str(local))
            yield local

    def exists(self, uri: str) -> bool:
        fs, path = self._resolve(uri)
        return bool(fs.isfile(path))

    def size(self, uri: str) -> int:
        fs, path = self._resolve(uri)
        return int(fs.size(path))

    def is_local(self, uri: str) -> bool:
        """Whether ``uri`` names a file on this machine's filesystem."""
        return isinstance(self._resolve(uri)[0], LocalFileSystem)

    def delete(self, uri: str) -> None:
        """Remove one stored file (missing is fine), and its call folder when left empty."""
        fs, path = self._resolve(uri)
        with suppress(FileNotFoundError):
            fs.rm_file(path)
        if isinstance(fs, LocalFileSystem):
            folder = Path(path).parent
            if folder.parent == Path(self.root):
                with suppress(OSError):
                    folder.rmdir()  # only when empty: other files are another writer's

    def _resolve(self, uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
        """The filesystem and path of ``uri``: a plain path is a local file, a URL of this
        store's protocol uses this store's filesystem (its options), any other URL its own."""
        uri = os.fspath(uri)
        protocol = fsspec.utils.get_protocol(uri)
        if "://" not in uri or protocol in ("file", "local"):
            path = uri.split("://", 1)[1] if "://" in uri else uri
            return _LOCAL, path
        if protocol in self._protocols():
            return self.fs, self.fs._strip_protocol(uri)
        return fsspec.core.url_to_fs(uri)

    def _protocols(self) -> tuple[str, ...]:
        protocol = self.fs.protocol
        return (protocol,) if isinstance(protocol, str) else tuple(protocol)


class LocalAudioStore(AudioStore):
    """A folder on this machine (the default ``<data_dir>/audio``); URIs are plain paths."""

    def __init__(self, folder: str | os.PathLike[str], *, scratch_dir: str | None = None) -> None:
        folder = Path(folder).absolute()
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(_LOCAL, str(folder), scratch_dir=scratch_dir)


_LOCAL = LocalFileSystem()


def open_audio_store(
    url: str | None,
    *,
    default_dir: str | os.PathLike[str],
    options: dict[str, Any] | None = None,
    scratch_dir: str | None = None,
) -> AudioStore:
    """The store for ``storage.audio_url``: ``None`` or a plain path is a local folder, a URL
    an fsspec filesystem (``file://``, ``memory://``, ``s3://`` with the ``s3`` extra, …).

    Raises:
        ValueError: the URL's protocol is unknown or its package is not installed.
    """
    if not url:
        return LocalAudioStore(default_dir, scratch_dir=scratch_dir)
    if "://" not in url:
        return LocalAudioStore(url, scratch_dir=scratch_dir)
    check_audio_url(url)
    fs, root = fsspec.core.url_to_fs(url, **(options or {}))
    if isinstance(fs, LocalFileSystem):
        Path(root).mkdir(parents=True, exist_ok=True)
    return AudioStore(fs, root, options=options, scratch_dir=scratch_dir)


def audio_store_from_settings(
    settings, default_dir: str | os.PathLike[str] | None = None
) -> AudioStore:
    """The audio store the settings describe (``storage.audio_url``, ``storage.audio_options``);
    without a URL the local folder ``default_dir`` (default ``storage.audio_dir``)."""
    storage = settings.storage
    return open_audio_store(
        storage.audio_url,
        default_dir=default_dir if default_dir is not None else storage.resolved_audio_dir(),
        options=storage.audio_options,
    )


def check_audio_url(url: str) -> None:
    """Raise ValueError naming the URL when fsspec cannot serve it (unknown protocol, or its
    package missing: ``s3://`` needs ``pip install 'calmline[s3]'``)."""
    protocol = fsspec.utils.get_protocol(url)
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError as e:
        raise ValueError(f"storage.audio_url {url!r}: unknown protocol {protocol!r}") from e
    except ImportError as e:
        extra = " (pip install 'calmline[s3]')" if protocol in ("s3", "s3a") else ""
        raise ValueError(
            f"storage.audio_url {url!r}: the {protocol!r} filesystem is not installed{extra}: {e}"
        ) from e


def _stem_suffix(name: str) -> tuple[str, str]:
    """A file-name-safe stem and suffix of ``name`` (``audio.wav`` -> ``audio``, ``.wav``)."""
    p = PurePosixPath(PurePosixPath(name.replace("\\", "/")).name or "audio")
    suffix = "".join(c for c in p.suffix.lower() if c.isalnum() or c == ".")[:8]
    stem = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in p.stem)
    return (stem.strip("_")[:32] or "audio"), (suffix if suffix != "." else "")
