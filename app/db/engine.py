"""Engine and sessions for SQLite (WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.db.sqlite_writers import WriterGate

SQLITE_BEGIN_OPTION = "smp_sqlite_begin"
_WRITE_LOCK_KEY = "smp_holds_write_lock"


def holds_write_lock(session: Session) -> bool:
    """Whether the session's transaction may write without upgrading a read snapshot: always on
    PostgreSQL, on SQLite once :func:`immediate` has taken the lock (until the transaction ends)."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    return bool(session.info.get(_WRITE_LOCK_KEY))


@event.listens_for(Session, "after_transaction_end")
def _forget_write_lock(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_WRITE_LOCK_KEY, None)


def immediate(session: Session) -> None:
    """Start the session's transaction holding the write lock (SQLite); a no-op on PostgreSQL.

    Call it first thing in a write path, so that concurrent writers queue on the lock instead of
    failing when they upgrade a read snapshot to a write. A read-only transaction already open
    (objects loaded to check a request) is ended first; pending changes there are a bug.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("immediate() must come before any change in the session")
        session.commit()  # nothing to write: ends the read snapshot (objects stay loaded)
    session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    session.info[_WRITE_LOCK_KEY] = True


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        return Path(url[len(prefix) :])
    return None


_GATES: weakref.WeakKeyDictionary[Engine, WriterGate] = weakref.WeakKeyDictionary()


def writer_gate(engine: Engine) -> WriterGate | None:
    """The writers' gate of a SQLite file database (None for PostgreSQL or an in-memory one)."""
    return _GATES.get(engine)


def make_engine(url: str, **kwargs: object) -> Engine:
    """A configured engine: SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True, **kwargs
        )  # type: ignore[arg-type]

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy manage transactions itself (BEGIN is emitted below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        gate = WriterGate(path) if path is not None else None
        if gate is not None:
            _GATES[engine] = gate

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Deferred by default, so readers never block writers (WAL). A write path that must not
            # lose a race asks for IMMEDIATE with :func:`immediate` before its first statement, and
            # queues for it at the writers' gate first.
            mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
            if mode == "IMMEDIATE" and gate is not None:
                gate.acquire(conn.connection.info)
            conn.exec_driver_sql(f"BEGIN {mode}")

        if gate is not None:

            def _let_go(_dbapi_connection, record, *_args):  # type: ignore[no-untyped-def]
                gate.release(record.info)

            for name in ("checkin", "close", "detach", "invalidate"):
                event.listen(engine.pool, name, _let_go)

        return engine
    # hide_parameters: a failed statement must never write its values (patient data) to the logs.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True, **kwargs)  # type: ignore[arg-type]


@cache
def get_engine(url: str | None = None) -> Engine:
    from app.settings import get_settings

    return make_engine(url or get_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for scripts and the CLI: commits on success, rolls back on error."""
    from app.audit.recorder import write_pending_reads

    session = session_factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        write_pending_reads(session)
        session.close()


def analyze(session: Session) -> None:
    """Refresh the query planner's statistics after a bulk load (a fresh PostgreSQL database
    otherwise plans the free-slot search 15 times slower until autovacuum gets to it)."""
    session.flush()
    session.execute(text("ANALYZE"))
