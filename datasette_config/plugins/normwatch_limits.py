"""Safe defaults for every Datasette connection: no string or blob over a size limit.

sql_time_limit_ms does not stop one expensive function call (randomblob of
400 MB ran 5 s and took 1.9 GiB here); SQLite's length limit does.
"""

from __future__ import annotations

import ctypes
import logging

from datasette import hookimpl

MAX_VALUE_BYTES = 10_000_000  # the longest statement is far below this
SQLITE_LIMIT_LENGTH = 0  # sqlite3.h

logger = logging.getLogger(__name__)


@hookimpl
def prepare_connection(conn):
    limit_value_length(conn, MAX_VALUE_BYTES)


def limit_value_length(conn, max_bytes: int) -> None:
    if hasattr(conn, "setlimit"):  # the stdlib driver, Python 3.11+
        conn.setlimit(SQLITE_LIMIT_LENGTH, max_bytes)
        return
    _pysqlite3_setlimit(conn, max_bytes)


def _pysqlite3_setlimit(conn, max_bytes: int) -> None:
    """pysqlite3 (which Datasette prefers, for sqlite-vec) has no setlimit: call
    sqlite3_limit() in its bundled SQLite. The connection object starts with
    PyObject_HEAD followed by the sqlite3* handle (pysqlite3's connection.h)."""
    import pysqlite3._sqlite3 as module

    library = ctypes.PyDLL(module.__file__)
    library.sqlite3_limit.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    library.sqlite3_limit.restype = ctypes.c_int
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    current = library.sqlite3_limit(handle, SQLITE_LIMIT_LENGTH, -1)  # -1 reads without setting
    if not 0 < current <= 2**31 - 1:
        raise RuntimeError(f"unexpected SQLite length limit {current}: refusing to guess the handle")
    library.sqlite3_limit(handle, SQLITE_LIMIT_LENGTH, max_bytes)
