"""Read one YAML file strictly: YAML 1.2 scalars, no aliases, no duplicate keys, a line for every value."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .errors import ContentError, format_field

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32

Position = tuple[int, int]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, and the position of each value and each mapping key by field path."""

    data: object
    positions: dict[tuple, Position]
    key_positions: dict[tuple, Position]

    def position(self, field: tuple, *, key: bool = False) -> Position:
        """Return the position of a field, or of its nearest enclosing field that has one."""
        table = self.key_positions if key else self.positions
        while field not in table and field:
            field = field[:-1]
        return table.get(field, self.positions.get((), (1, 1)))


class _Refused(Exception):
    def __init__(self, message: str, mark):
        super().__init__(message)
        self.message = message
        self.position = (mark.line + 1, mark.column + 1)


class _StrictResolver(BaseResolver):
    """YAML 1.2 core schema: no timestamps, no yes/no/on/off booleans, no sexagesimal numbers."""


_StrictResolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StrictResolver.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_StrictResolver.add_implicit_resolver(
    _FLOAT, re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?$"), list("-+.0123456789")
)
_StrictResolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _Loader(Reader, Scanner, Parser, Composer, _StrictResolver):
    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _StrictResolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent, index):
        return _compose_checked(self, parent, index)


def _compose_checked(loader, parent, index):
    # Aliases are refused before they are followed, and depth before Python's recursion limit.
    if loader.check_event(AliasEvent):
        raise _Refused("anchors and aliases are not allowed in content", loader.peek_event().start_mark)
    loader.depth += 1
    if loader.depth > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels", loader.peek_event().start_mark)
    node = Composer.compose_node(loader, parent, index)
    loader.depth -= 1
    return node


try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python loader alone
    CParser = None

if CParser is not None:

    class _FastLoader(CParser, Composer, _StrictResolver):
        """libyaml's scanner and parser (C, ten times faster) under the same checks and composer.

        Only used for files that parse: on any problem the pure-Python loader parses the file again,
        so that every error message and position is the one it gives.
        """

        def __init__(self, text: str):
            CParser.__init__(self, text)
            Composer.__init__(self)
            _StrictResolver.__init__(self)
            self.depth = 0

        compose_node = _compose_checked
        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document
        compose_scalar_node = Composer.compose_scalar_node
        compose_sequence_node = Composer.compose_sequence_node
        compose_mapping_node = Composer.compose_mapping_node


def read_yaml(path: Path, shown: str) -> tuple[Document | None, list[ContentError]]:
    """Read and parse a YAML file; `shown` is the path used in error messages."""
    return parse_bytes(path.read_bytes(), shown)


def parse_bytes(raw: bytes, shown: str) -> tuple[Document | None, list[ContentError]]:
    """Check and parse the bytes of a YAML file; `shown` is the path used in error messages."""
    problem = _check_bytes(raw)
    if problem:
        line, column, message = problem
        return None, [ContentError(shown, line, column, "(file)", message)]
    return parse_yaml(raw.decode("utf-8"), shown)


def parse_yaml(text: str, shown: str) -> tuple[Document | None, list[ContentError]]:
    """Parse YAML text into a Document, or return the errors that stop it."""
    node = _parse_fast(text)
    if node is not None:
        return _document(node, shown)
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except _Refused as refused:
        return None, [ContentError(shown, *refused.position, "(yaml)", refused.message)]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = (err.problem or err.context or "invalid YAML").strip()
        if message.startswith("but ") and err.context:
            message = f"{err.context.strip()}, {message}"
        return None, [ContentError(shown, line, column, "(yaml)", f"YAML syntax error: {message}")]
    except yaml.YAMLError as err:
        return None, [ContentError(shown, 1, 1, "(yaml)", f"YAML error: {err}")]
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return None, [ContentError(shown, 1, 1, "(file)", "file is empty")]
    return _document(node, shown)


def _parse_fast(text: str):
    if CParser is None:
        return None
    try:
        return _FastLoader(text).get_single_node()
    except Exception:  # noqa: BLE001 - the pure-Python loader says what is wrong, and where
        return None


def _document(node, shown: str) -> tuple[Document | None, list[ContentError]]:
    positions: dict[tuple, Position] = {}
    key_positions: dict[tuple, Position] = {}
    errors: list[ContentError] = []
    data = _construct(node, (), positions, key_positions, errors, shown)
    if errors:
        return None, errors
    return Document(data, positions, key_positions), []


def _check_bytes(raw: bytes) -> tuple[int, int, str] | None:
    if not raw.strip():
        return (1, 1, "file is empty")
    if len(raw) > MAX_BYTES:
        return (1, 1, f"file is larger than {MAX_BYTES // 1024} KiB")
    if raw.startswith(b"\xef\xbb\xbf"):
        return (1, 1, "file starts with a byte-order mark; save it as UTF-8 without BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        return (line, column, "file is not valid UTF-8 text")
    found = _NOT_PRINTABLE.search(text)
    if found:
        index, char = found.start(), found.group()
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        kind = "control character" if unicodedata.category(char) == "Cc" else "character"
        return (line, column, f"{kind} U+{ord(char):04X} is not allowed")
    return None


# What YAML 1.2 accepts in a stream (and PyYAML checks): refuse the rest up front, with its place.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _construct(node, path, positions, key_positions, errors, shown):
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, ScalarNode):
        return _construct_scalar(node, path, errors, shown)
    if isinstance(node, SequenceNode):
        if node.tag != _SEQ:
            errors.append(_tag_error(node, path, shown))
        return [
            _construct(item, path + (index,), positions, key_positions, errors, shown)
            for index, item in enumerate(node.value)
        ]
    if isinstance(node, MappingNode):
        if node.tag != _MAP:
            errors.append(_tag_error(node, path, shown))
        result: dict = {}
        for key_node, value_node in node.value:
            key_line, key_column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (_STR, _INT):
                errors.append(ContentError(shown, key_line, key_column, _field(path), "keys must be plain names"))
                continue
            key = key_node.value
            if key in result:
                first = key_positions[path + (key,)]
                errors.append(
                    ContentError(
                        shown, key_line, key_column, _field(path + (key,)), f"duplicate key (first at line {first[0]})"
                    )
                )
                continue
            key_positions[path + (key,)] = (key_line, key_column)
            result[key] = _construct(value_node, path + (key,), positions, key_positions, errors, shown)
        return result
    raise AssertionError(f"unknown YAML node {node!r}")


def _construct_scalar(node, path, errors, shown):
    value = node.value
    if node.tag == _STR:
        if node.style == '"' and (found := _NOT_PRINTABLE.search(value)):
            # An escape ("\x1e") makes what the file may not hold as it is (see _NOT_PRINTABLE).
            mark = node.start_mark
            message = f"escape makes U+{ord(found.group()):04X}, which a text may not hold"
            errors.append(ContentError(shown, mark.line + 1, mark.column + 1, _field(path), message))
        return value
    if node.tag == _INT:
        return int(value)
    if node.tag == _FLOAT:
        return float(value)
    if node.tag == _BOOL:
        return value.lower() == "true"
    if node.tag == _NULL:
        return None
    errors.append(_tag_error(node, path, shown))
    return None


def _tag_error(node, path, shown) -> ContentError:
    mark = node.start_mark
    return ContentError(shown, mark.line + 1, mark.column + 1, _field(path), f"YAML tag {node.tag!r} is not allowed")


def _field(path: tuple) -> str:
    return format_field(path) or "(top level)"
