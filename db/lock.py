"""One writer at a time: a lock file beside the working database."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class Busy(RuntimeError):
    pass


@contextlib.contextmanager
def exclusive(db_path: Path) -> Iterator[None]:
    """Hold `<db>.lock` for the duration; raise Busy at once if another run holds it.

    flock is released by the kernel when the holder dies, so a killed run never
    leaves a stale lock behind.
    """
    lock_path = db_path.with_name(db_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise Busy(f"another NormWatch run is writing to {db_path} (lock {lock_path})") from error
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
