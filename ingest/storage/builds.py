"""Rebuilds that a kill cannot break: a complete index is built beside the one in use and swapped in.

``coalition ingest --rebuild`` builds into ``<index>/builds/<stamp>/`` (Chroma, BM25, sentence vectors,
multilingual passage and word vectors, practice records: a whole index) while the old one keeps serving, then points the symlink
``<index>/current`` at it with one atomic rename. A kill before the rename leaves the old index and
a half build, which the next rebuild clears away; after it, the new index. ``Settings.index_root``
follows the link (an index never rebuilt keeps its files directly in ``<index>/``). The index that
was current before stays until the next rebuild: a server started on it may still be reading it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

BUILDS = "builds"
CURRENT = "current"
LEGACY = ("chroma", "keyword", "sentences.npz", "practices.json", "multilingual.npz", "terms.npz")  # before builds


def new_build(index_dir: Path) -> Path:
    """A fresh, empty folder to build a complete index in (resolved: Chroma keys its clients by path)."""
    root = index_dir.resolve() / BUILDS
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    path.mkdir()
    return path


def swap_in(index_dir: Path, build: Path) -> None:
    """Make ``build`` the index in use, atomically; then clear away killed builds and older indexes."""
    link = index_dir / CURRENT
    if link.is_dir() and not link.is_symlink():  # a copied index whose link became a folder: keep it as a build
        link.rename(new_build(index_dir))
    previous = link.resolve() if link.is_dir() else None
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path(BUILDS, build.name), target_is_directory=True)
    os.replace(tmp, link)  # rename(2): readers see the old link or the new one, never none
    _sync(index_dir)
    keep = {build.resolve(), previous}
    for other in (index_dir / BUILDS).iterdir():
        if other.resolve() not in keep:
            shutil.rmtree(other, ignore_errors=True)
    if previous is not None:  # the files from before builds existed are no longer the previous index
        for name in LEGACY:
            path = index_dir / name
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def discard(build: Path) -> None:
    shutil.rmtree(build, ignore_errors=True)


def _sync(folder: Path) -> None:
    """Flush the rename to disk, so that a power cut cannot undo it either (where the OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
