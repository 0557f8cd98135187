"""SQLite writers queue on a lock that wakes them, not on SQLite's sleeping retries.

SQLite lets one transaction write at a time. A writer that finds the database locked does not
wait on the lock: its busy handler sleeps and tries again, 1, 2, 5, 10… then 100 ms at a time. With
two server processes booking at once, a writer could sleep hundreds of milliseconds past the
moment the lock was free, and another could take the lock in between, again and again (measured:
``BEGIN IMMEDIATE`` waited up to 640 ms while no booking held the lock more than 40 ms).

So a transaction that asks for the write lock (:func:`app.db.engine.immediate`) first takes this
gate: a thread lock among the threads of a process, then an advisory ``flock`` on a file next to
the database among the processes. The thread lock wakes its next waiter at once; the ``flock`` is
polled every 0.2 to 2 ms. The gate is let go when the connection goes back to the pool (after its
commit or rollback) or is closed. It only orders the writers: SQLite's own lock still decides,
and after :attr:`WriterGate.timeout` seconds a writer stops waiting here and asks SQLite directly,
which is what happened before the gate existed.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

HELD = "smp_writer_gate"
"""Key in a pool connection record's ``info``: the gate this connection holds."""


class WriterGate:
    def __init__(self, database: Path, timeout: float = 30.0) -> None:
        self.path = database.with_name(database.name + "-writers.lock")
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # One descriptor per process: a forked child must not share its parent's (a flock belongs
        # to the open file, so both would hold it at once).
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, info: dict[str, Any]) -> bool:
        """Wait for the gate for a connection (``info``: its pool record's); False after the timeout."""
        if info.get(HELD) is self:
            return True  # a second transaction on the same connection before it went back to the pool
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return False
        fd = self._file()
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                info[HELD] = self
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._threads.release()
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def release(self, info: dict[str, Any]) -> None:
        if info.pop(HELD, None) is not self:
            return
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()
