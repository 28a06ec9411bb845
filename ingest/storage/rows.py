"""Store stage, read side: arrays kept on disk and read a few rows at a time.

Over a large corpus a question reads a sliver of the sentence vectors and of the sentences' n-grams (those of
its candidates' sentences). Mapped, every page it touches stays in the process (and the kernel maps the
pages around it too): after a few hundred questions the whole file is resident in every worker. Read with
``pread``, the rows are copied out of the kernel's page cache, which all processes share and which is not
any process's memory, and nothing is left behind.

Example::

    vectors = RowFile.npy(folder / "sentences.vectors.npy")
    some = vectors.read(np.array([3, 4, 5, 90]))   # rows 3–5 in one read, row 90 in another
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import numpy as np


class RowFile:
    """The rows of an array stored in a file (a C-order ``.npy``, alone or as a stored member of an ``.npz``)."""

    def __init__(self, path: Path, offset: int, dtype: np.dtype, shape: tuple[int, ...]) -> None:  # type: ignore[type-arg]
        self.path, self.offset, self.dtype, self.shape = path, offset, dtype, shape
        self.row = (dtype.itemsize * int(np.prod(shape[1:])))  # bytes a row
        self._fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    @classmethod
    def npy(cls, path: Path) -> RowFile:
        with open(path, "rb") as f:
            return cls(path, *_header(f))

    @classmethod
    def npz(cls, path: Path, name: str) -> RowFile | None:
        """The array ``name`` of an ``.npz`` saved uncompressed (``np.savez``); None for a compressed one. An
        ``.npz`` is a zip of ``.npy`` files: a stored member's bytes are the file's, after its local header."""
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(f"{name}.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        with open(path, "rb") as f:
            f.seek(info.header_offset)
            local = f.read(30)  # the local header: its name and extra field lengths are its last four bytes
            if local[:4] != b"PK\x03\x04":
                return None
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            f.seek(info.header_offset + 30 + name_length + extra_length)
            return cls(path, *_header(f))

    def mapped(self) -> np.ndarray:
        """The whole array mapped read-only (a full scan reads every page anyway)."""
        if not self.shape[0]:
            return np.empty(self.shape, dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r", shape=self.shape, offset=self.offset)

    def read(self, at: np.ndarray) -> np.ndarray:
        """The rows ``at`` (ascending), one read per run of consecutive rows."""
        at = np.asarray(at, dtype=np.int64)
        if not len(at):
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        return self.segments(*runs(at))

    def segments(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Rows ``starts[i]`` up to ``ends[i]`` (exclusive) for each i, concatenated."""
        counts = np.asarray(ends, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
        out = np.empty((int(counts.sum()), *self.shape[1:]), dtype=self.dtype)
        flat = out.reshape(-1).view(np.uint8).data
        pos = 0
        for start, count in zip(np.asarray(starts).tolist(), counts.tolist(), strict=True):
            if count:
                size = count * self.row
                if os.preadv(self._fd, [flat[pos : pos + size]], self.offset + start * self.row) != size:
                    raise OSError(f"{self.path}: short read (rows {start}–{start + count})")
                pos += size
        return out


def runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of consecutive values in ``keys`` (non-empty), in order; ends exclusive."""
    breaks = np.flatnonzero(np.diff(keys) != 1) + 1
    return keys[np.r_[0, breaks]], keys[np.r_[breaks - 1, len(keys) - 1]] + 1


def _header(f) -> tuple[int, np.dtype, tuple[int, ...]]:  # type: ignore[no-untyped-def,type-arg]
    """(data offset, dtype, shape) of the ``.npy`` whose header starts at ``f``'s position."""
    version = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(f)
    if fortran or dtype.hasobject:
        raise ValueError(f"{f.name}: not a C-order array of numbers")
    return f.tell(), dtype, shape
