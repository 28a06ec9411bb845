"""A real PostgreSQL server for the tests: Debian's ``postgresql`` binaries, ``initdb`` + ``pg_ctl`` in a
temp dir, listening on a free loopback port only. ``initdb`` refuses to run as root (and CI runs as
root), so as root it runs as the package's ``postgres`` user through ``runuser``.

Example::

    with postgres_server() as url:      # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
        FeedbackStore(url)
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port


def bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are (Debian keeps them off PATH, under /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb and shutil.which("pg_ctl") else None


def missing() -> str:
    """Why a PostgreSQL test cannot run here, or '' when it can."""
    if bindir() is None:
        return "PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql; scripts/setup.sh --browser does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user for initdb (Debian's postgresql package adds it)"
        if shutil.which("runuser") is None:
            return "running as root and runuser (util-linux) is missing"
    return ""


@contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh cluster in a temp dir of /tmp (pytest's are root-only: the postgres user could not enter
    them); its URL while the block runs; stopped (fast) and removed after."""
    bin_ = bindir()
    assert bin_ is not None, missing()
    root = Path(tempfile.mkdtemp(prefix="coalition-pg-"))
    data, sockets = root / "pgdata", root / "pgsock"
    sockets.mkdir(parents=True)
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        entry = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    user = "postgres"
    subprocess.run([*as_user, str(bin_ / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=60"
    subprocess.run([*as_user, str(bin_ / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                    "-l", str(root / "pg.log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bin_ / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """``url`` with a new, empty database ``name`` on the same server."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
