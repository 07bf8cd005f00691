"""Content errors reported compiler-style: path:line:column: field: message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem in one file, at a line and column (1-based; 0 when the problem is the whole file)."""

    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        # Always the full form, so that editors and scripts can jump to it; a whole-file problem is at 1:1.
        return f"{self.path}:{self.line or 1}:{self.column or 1}: {self.field or '(file)'}: {self.message}"


class BuildFailed(Exception):
    """Raised when content has errors; carries all of them, sorted by place."""

    def __init__(self, errors: list[ContentError]):
        self.errors = sorted(set(errors))
        super().__init__(f"{len(self.errors)} error(s)")


def format_field(path: tuple) -> str:
    """Render a field path like ('roles', 0, 'title', 'en') as roles[0].title.en."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
