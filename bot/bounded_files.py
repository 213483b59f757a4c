"""Reading files whose size we do not control, without reading them whole first.

Why: `config validate /dev/zero` or `import /dev/zero` used to read until memory ran
out before any check looked at the size. `stat` cannot tell (a device or a pipe
reports 0 bytes), so the limit is counted while reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from domain.errors import FieldError, InvalidInput


class FileTooLarge(InvalidInput):
    """The file (or one of its lines) passed the limit; the message says which. Invalid
    input like any other, so callers that report a file's problems report this one."""

    def __init__(self, message: str):
        super().__init__([FieldError("", message)])


def read_text_limited(path: Path, limit: int) -> str:
    """The whole file as UTF-8 text; FileTooLarge after `limit` bytes, read no further.
    OSError and UnicodeDecodeError pass through for the caller to word."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"file larger than {limit} bytes")
    return data.decode("utf-8")


def limited_lines(handle: TextIO, line_limit: int, total_limit: int) -> Iterator[str]:
    """The lines of `handle` (for csv.reader), each at most `line_limit` characters and
    all together at most `total_limit`; FileTooLarge as soon as either is passed."""
    total = 0
    number = 0
    while True:
        line = handle.readline(line_limit + 1)
        if not line:
            return
        number += 1
        if len(line) > line_limit:
            raise FileTooLarge(f"line {number} is longer than {line_limit} characters")
        total += len(line)
        if total > total_limit:
            raise FileTooLarge(f"file larger than {total_limit} characters")
        yield line
