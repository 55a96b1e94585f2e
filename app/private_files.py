"""Files that hold people's data are readable by the service's own user only (0600).

The SQLite database (and its -wal/-shm files, which SQLite creates with the database's
mode), backups and exports written by the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def make_directory(path: Path) -> None:
    """Create ``path`` (and parents) for private files; an existing directory is left as is."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)


def create_empty(path: Path) -> None:
    """Create a new, empty private file; refuses to reuse an existing one."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 from the first byte on."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)  # a file that existed keeps its mode otherwise
        handle.write(data)


def restrict_sqlite(database: str) -> None:
    """Mode 0600 for a SQLite database file and its WAL and shared-memory files."""
    if not database:  # in-memory or temporary database
        return
    for path in (database, database + "-wal", database + "-shm"):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, FILE_MODE)
        except FileNotFoundError:
            continue
