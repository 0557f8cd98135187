"""SQLite's writers queue at the gate (a lock that wakes the next one) rather than in SQLite's
sleeping retries; the gate is let go however the transaction ends, and never blocks for good."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from app.db.engine import immediate, make_engine, session_factory, writer_gate


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE entry (id INTEGER PRIMARY KEY, who TEXT NOT NULL UNIQUE)"))
    yield engine
    engine.dispose()


HOLDER = """
import sys
from sqlalchemy import text
from app.db.engine import immediate, make_engine, session_factory
session = session_factory(make_engine(sys.argv[1]))()
immediate(session)
session.execute(text("INSERT INTO entry (who) VALUES ('other process')"))
print("holding", flush=True)
sys.stdin.readline()
session.commit()
"""
"""Another process: takes the gate and the write lock, writes, and holds them until told."""


def gate_is_free(engine: Engine) -> bool:
    """Whether another process could take the gate now (a fresh descriptor, not blocking)."""
    gate = writer_gate(engine)
    assert gate is not None
    fd = os.open(gate.path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _write(engine: Engine, who: str):  # type: ignore[no-untyped-def]
    session = session_factory(engine)()
    immediate(session)
    session.execute(text("INSERT INTO entry (who) VALUES (:who)"), {"who": who})
    return session


def test_a_writer_holds_the_gate_until_its_commit(sqlite_engine):
    assert gate_is_free(sqlite_engine)
    session = _write(sqlite_engine, "a")
    assert not gate_is_free(sqlite_engine)
    session.commit()
    assert gate_is_free(sqlite_engine)
    session.close()


@pytest.mark.parametrize("ending", ["rollback", "close", "integrity error"])
def test_the_gate_is_let_go_however_the_transaction_ends(sqlite_engine, ending):
    _write(sqlite_engine, "first").commit()
    session = _write(sqlite_engine, "second")
    assert not gate_is_free(sqlite_engine)
    if ending == "rollback":
        session.rollback()
    elif ending == "close":
        session.close()
    else:
        with pytest.raises(IntegrityError):
            session.execute(text("INSERT INTO entry (who) VALUES ('first')"))
        session.rollback()
    assert gate_is_free(sqlite_engine)
    session.close()
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT who FROM entry ORDER BY id")).scalars().all() == ["first"]


def test_twenty_threads_writing_at_once_all_get_through(sqlite_engine):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                session = _write(sqlite_engine, f"{n}-{i}")
                session.commit()
                session.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM entry")).scalar() == 200
    assert gate_is_free(sqlite_engine)


def test_a_writer_in_another_process_is_waited_for_then_followed(sqlite_engine, tmp_path):
    """Another process takes the gate and the write lock, and holds them until told to commit: our
    writer waits at the gate (no "database is locked"), and writes after it."""
    url = str(sqlite_engine.url)
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "holding"
    assert not gate_is_free(sqlite_engine)
    done = threading.Event()

    def ours() -> None:
        session = _write(sqlite_engine, "this process")
        session.commit()
        session.close()
        done.set()

    thread = threading.Thread(target=ours)
    thread.start()
    assert not done.wait(0.5)  # still waiting behind the other process
    child.stdin.write("\n")
    child.stdin.flush()
    assert child.wait(30) == 0
    thread.join(30)
    assert done.is_set()
    with sqlite_engine.connect() as connection:
        rows = connection.execute(text("SELECT who FROM entry ORDER BY id")).scalars().all()
    assert rows == ["other process", "this process"]


def test_a_gate_stuck_elsewhere_delays_a_writer_but_never_stops_it(sqlite_engine):
    """The gate only orders the writers: held by someone who never lets go (a process hung on a
    file system that lost its locks), a writer goes to SQLite's own lock after the timeout."""
    gate = writer_gate(sqlite_engine)
    assert gate is not None
    gate.timeout = 0.3
    fd = os.open(gate.path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        session = _write(sqlite_engine, "late but written")
        session.commit()
        session.close()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT who FROM entry")).scalars().all() == ["late but written"]
    assert gate_is_free(sqlite_engine)


def test_a_connection_writing_twice_before_it_goes_back_to_the_pool_does_not_wait_for_itself(sqlite_engine):
    """Two write transactions on one connection (a script holding it): the second finds the gate
    already its own instead of waiting for it until the timeout."""
    from app.db.engine import SQLITE_BEGIN_OPTION

    gate = writer_gate(sqlite_engine)
    assert gate is not None
    gate.timeout = 1
    held: dict[str, object] = {}
    assert gate.acquire(held)
    assert gate.acquire(held)  # the same connection again: not a wait until the timeout, then False
    gate.release(held)
    assert gate_is_free(sqlite_engine)
    with sqlite_engine.connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        for who in ("one", "two"):
            with connection.begin():
                connection.execute(text("INSERT INTO entry (who) VALUES (:who)"), {"who": who})
    assert gate_is_free(sqlite_engine)
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT who FROM entry ORDER BY id")).scalars().all() == ["one", "two"]
