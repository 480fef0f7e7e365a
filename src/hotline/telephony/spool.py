"""The line's spool of call records: on its own disk, so a database outage loses none.

Every record the line finishes is written here first, then to the database (records.py).
A batch of records is one JSON file, written to a temporary name, fsync'd, renamed into
place and the directory fsync'd: once `write` returns the records survive a crash or a power
cut, and a file is either whole or absent. A file is removed once each of its records is in
the database; a crash between the commit and the removal only means the file is read again,
and the records' keys (calls/line_records.py) make that write a no-op. Records the database
refuses (not an outage: the record itself) are moved to `rejected/` for an administrator.

The functions block (file I/O, fsync): the recorder runs them in a thread, never on the
media clock's loop. One line instance per directory.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

SUFFIX = ".json"


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rejected = directory / "rejected"

    def prepare(self) -> None:
        """Create the directory; drop half-written files (their records were never kept)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for tmp in self.directory.glob("*.tmp"):
            tmp.unlink(missing_ok=True)

    def write(self, records: list[dict[str, Any]]) -> Path:
        """Store a batch durably; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # Names sort in the order written: the oldest records are replayed first.
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        path = self.directory / name
        tmp = path.with_name(name + ".tmp")
        with tmp.open("wb") as f:
            f.write(json.dumps(records, ensure_ascii=False).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.directory)
        return path

    def pending(self) -> list[Path]:
        """The files not fully written to the database yet, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{SUFFIX}"))

    def read(self, path: Path) -> list[dict[str, Any]]:
        records = json.loads(path.read_bytes())
        assert isinstance(records, list)
        return records

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def reject(self, record: dict[str, Any], error: str) -> None:
        """Keep a record the database refused, with why, out of the replay."""
        self.rejected.mkdir(parents=True, exist_ok=True)
        path = self.rejected / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        with path.open("wb") as f:
            f.write(json.dumps({"error": error, "record": record}, ensure_ascii=False).encode())
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(self.rejected)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
