"""Files that survive a crash: durable appends and atomic replacements.

Sweeps append their rows and the benchmark runner its timed cases as they go; a
process killed at any moment keeps everything appended before, and a file
replaced atomically is either the old one or the new one, never half of each.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def durable_append(path: str | Path, text: str) -> None:
    """Append ``text`` to ``path`` and wait until it is on disk: a crash after this keeps it."""
    with open(path, "a", encoding="utf-8", newline="") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def write_atomically(path: str | Path, text: str | bytes) -> None:
    """Replace ``path`` by ``text`` (or bytes): a crash leaves the old file or the new one."""
    stage(path, text)()


def stage(path: str | Path, text: str | bytes) -> Callable[[], None]:
    """``write_atomically`` in two halves: write ``text`` now, sync and replace ``path`` later.

    The text goes to ``path``'s ``.partial`` file at once (so a place that cannot be
    written fails here); the call returned waits until it is on disk and renames it
    over ``path``, wherever and whenever it is made.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    binary = isinstance(text, bytes)
    file = open(  # noqa: SIM115 (closed by the call returned)
        partial,
        "wb" if binary else "w",
        encoding=None if binary else "utf-8",
        newline=None if binary else "",
    )
    try:
        file.write(text)
        file.flush()
    except BaseException:
        file.close()
        raise

    def put_in_place() -> None:
        try:
            os.fsync(file.fileno())
        finally:
            file.close()
        os.replace(partial, path)

    return put_in_place


def complete_lines(path: str | Path, repair: bool = False) -> list[str]:
    """The lines of ``path`` that were written whole (a torn last line is dropped).

    A last line without its newline was cut off mid-write (the process was killed):
    it is ignored, and with ``repair=True`` also cut from the file, so that appending
    goes on cleanly. A missing file has no lines.
    """
    path = Path(path)
    if not path.exists():
        return []
    raw = path.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    if repair and len(complete) != len(raw):
        with open(path, "r+b") as file:
            file.truncate(len(complete))
            file.flush()
            os.fsync(file.fileno())
    return complete.decode("utf-8").splitlines()
