"""``smp backup`` and ``smp restore``.

SQLite: the online backup API (a consistent copy while the application runs). PostgreSQL:
``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` (the client tools of the
server's major version). A backup holds health data: it is written with owner-only permissions.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup or restore could not be made; the message says why, in French."""


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Base SQLite en mémoire : rien à sauvegarder.")
    return Path(database)


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432), "--username", u.username or "postgres"]
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return [*args, "--dbname", u.database or "postgres"], env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} est introuvable : installez le client PostgreSQL (paquet postgresql-client).")
    return found


def backup(url: str, target: Path) -> int:
    """Write a backup of the database at ``url`` to ``target``; returns its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.startswith("sqlite"):
        source = _sqlite_file(url)
        if not source.exists():
            raise BackupError(f"Base SQLite introuvable : {source}")
        with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)
        dst.close()
    else:
        args, env = _pg_env(url)
        done = subprocess.run(  # noqa: S603 - the client tool, arguments from our own URL
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError("pg_dump a échoué : " + done.stderr.strip()[:500])
    partial.chmod(0o600)
    partial.replace(target)  # a backup is either whole or absent
    return target.stat().st_size


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` by the backup ``source``. Stop the application first."""
    if not source.exists():
        raise BackupError(f"Sauvegarde introuvable : {source}")
    if url.startswith("sqlite"):
        with sqlite3.connect(source) as check:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("La sauvegarde SQLite est endommagée (integrity_check) : rien n'a été restauré.")
        target = _sqlite_file(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
        return
    args, env = _pg_env(url)
    done = subprocess.run(  # noqa: S603 - the client tool, arguments from our own URL
        [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(source)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError("pg_restore a échoué (la base est restée telle quelle) : " + done.stderr.strip()[:500])
