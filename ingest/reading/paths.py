"""Which files ingest may read, and how their names are shown.

A file is read only when it resolves inside the corpus folder: a symlink ``corpus/x.txt`` →
``/etc/passwd`` is skipped, and neither its target nor any absolute path reaches the index. Names are
shown with control characters escaped, so a file called ``"a\\nskipped b: …"`` cannot forge lines of
ingest's output.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.errors import SkippedFile


def corpus_name(path: Path, corpus_dir: Path) -> str:
    """How ingest names ``path``: relative to the corpus folder when it lies there (by its name, not where
    a symlink points), else as it was given."""
    absolute, root = os.path.abspath(path), os.path.abspath(corpus_dir)
    if os.path.commonpath([absolute, root]) == root and absolute != root:
        return Path(os.path.relpath(absolute, root)).as_posix()
    return str(path)


def inside_corpus(path: Path, corpus_dir: Path) -> Path:
    """``path`` resolved (symlinks followed); ``SkippedFile`` unless that lies inside ``corpus_dir``."""
    real = path.resolve()
    if not real.is_relative_to(corpus_dir.resolve()):
        raise SkippedFile("resolves outside the corpus directory (a symlink or a path elsewhere); not read")
    return real


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
