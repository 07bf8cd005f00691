"""UI words: one flat table per language in layouts/strings/<lang>.yml."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ContentError
from .yamlfile import read_yaml

PATH_SEGMENT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class MissingString(LookupError):
    """A template asked for a UI key that a language's table lacks."""


@dataclass(frozen=True)
class Strings:
    """The UI tables of every language, all with the same keys."""

    tables: Mapping[str, Mapping[str, str]]

    def get(self, lang: str, key: str) -> str:
        """Return the UI string `key` in `lang`."""
        try:
            return self.tables[lang][key]
        except KeyError:
            raise MissingString(f"UI string '{key}' is missing for language '{lang}'") from None


def read_strings(directory: Path, languages: tuple[str, ...], shown) -> tuple[Strings | None, list[ContentError]]:
    """Read the table of each language; every key must exist in every table."""
    tables: dict[str, dict[str, str]] = {}
    positions: dict[str, dict[str, tuple[int, int]]] = {}
    errors: list[ContentError] = []
    for lang in languages:
        path = directory / f"{lang}.yml"
        name = shown(path)
        if not path.is_file():
            errors.append(ContentError(name, 0, 0, "", f"UI string table for language '{lang}' is missing"))
            continue
        document, file_errors = read_yaml(path, name)
        errors += file_errors
        if document is None:
            continue
        if not isinstance(document.data, dict):
            errors.append(ContentError(name, 1, 1, "(top level)", "expected a map of keys to strings"))
            continue
        table = {}
        for key, value in document.data.items():
            line, column = document.position((key,))
            if not isinstance(value, str):
                errors.append(ContentError(name, line, column, key, "expected a string"))
            elif key.startswith("path.") and not PATH_SEGMENT.match(value):
                errors.append(
                    ContentError(name, line, column, key, "a URL segment: lowercase ASCII letters, digits and '-'")
                )
            else:
                table[key] = value
        tables[lang] = table
        positions[lang] = {key: document.position((key,), key=True) for key in document.data}
    all_keys = sorted({key for table in tables.values() for key in table})
    for lang, table in tables.items():
        for key in all_keys:
            if key not in table and key not in positions[lang]:
                others = ", ".join(other for other in tables if key in tables[other])
                errors.append(
                    ContentError(
                        shown(directory / f"{lang}.yml"),
                        0,
                        0,
                        key,
                        f"missing in language '{lang}' (present in {others})",
                    )
                )
    return (None if errors else Strings(tables)), errors
