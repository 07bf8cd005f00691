"""Validate parsed YAML against the JSON Schema of its kind, with messages an editor can act on."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import fastjsonschema

from .errors import ContentError, format_field
from .yamlfile import Document

if TYPE_CHECKING:
    import jsonschema

SCHEMA_DIR = Path(__file__).parent / "schemas"
KINDS = ("event", "person", "agreement", "term", "organization", "source")

_TYPE_NAMES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a map of fields",
    "null": "nothing",
}


@cache
def _schema(name: str) -> dict:
    documents = {path.name: json.loads(path.read_text("utf-8")) for path in sorted(SCHEMA_DIR.glob("*.schema.json"))}
    # References are replaced by what they point to, once: resolving them while validating was a
    # quarter of the time spent reading a large site's entries.
    return _inlined(documents[f"{name}.schema.json"], f"{name}.schema.json", documents)


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    # Imported only to explain a document the quick check refused (60 ms of every build's start).
    import jsonschema

    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


# The keywords the schemas may use: each means the same in JSON Schema 2020-12, which they are
# written in, and in draft 7, the latest that fastjsonschema knows ("x-" ones are ours: messages).
_SAME_IN_DRAFT_7 = {
    "$schema", "$comment", "title", "description", "type", "properties", "required", "additionalProperties",
    "items", "uniqueItems", "minItems", "maxItems", "minProperties", "enum", "const", "pattern", "propertyNames",
    "minimum", "maximum", "minLength", "maxLength",
}  # fmt: skip
# Keywords whose value is a schema, and those whose value maps names to schemas.
_SUBSCHEMA = ("additionalProperties", "items", "propertyNames")
_SUBSCHEMAS = ("properties",)


@cache
def _accepts(name: str):
    # fastjsonschema turns the schema into Python: a valid document is known in a tenth of the
    # time. A document it refuses goes to jsonschema, which names every problem, so its own
    # exceptions need not say which rule failed: without that (the schema written into the code at
    # each rule) the code is half the size, and making the seven validators takes 0.04 s rather
    # than 0.1-0.2 s (of the real site's first build, where they were a third of reading the model).
    schema = dict(_schema(name))
    schema.pop("$defs", None)  # inlined where used
    _check_keywords(schema, f"{name}.schema.json")
    draft_7 = {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(draft_7, detailed_exceptions=False)


def _check_keywords(node: object, shown: str) -> None:
    if not isinstance(node, dict):
        return
    unknown = {keyword for keyword in node if keyword not in _SAME_IN_DRAFT_7 and not keyword.startswith("x-")}
    if unknown:
        raise ValueError(f"{shown}: keyword not known to mean the same in draft 7: {', '.join(sorted(unknown))}")
    for keyword in _SUBSCHEMA:
        _check_keywords(node.get(keyword), shown)
    for keyword in _SUBSCHEMAS:
        for child in node.get(keyword, {}).values():
            _check_keywords(child, shown)


def _inlined(node: object, base: str, documents: dict[str, dict], hops: int = 0) -> object:
    if hops > 20:
        raise ValueError(f"schema references in {base} go round in a circle")
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            # Beside a reference, only annotations: a validating keyword there would be lost here.
            beside = set(node) - {"$ref", "description", "$comment"}
            if beside:
                raise ValueError(f"{base}: keywords beside a $ref cannot be inlined: {', '.join(sorted(beside))}")
            name, _, pointer = reference.partition("#")
            target: object = documents[name or base]
            for part in filter(None, pointer.split("/")):
                target = target[part.replace("~1", "/").replace("~0", "~")]  # type: ignore[index]
            return _inlined(target, name or base, documents, hops + 1)
        return {key: _inlined(value, base, documents, hops) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(value, base, documents, hops) for value in node]
    return node


def validate_document(kind: str, document: Document, shown: str) -> list[ContentError]:
    """Check a document against the schema of `kind` ('event', ..., or 'site'); return every problem."""
    try:
        _accepts(kind)(document.data)
        return []
    except fastjsonschema.JsonSchemaValueException:
        pass
    errors = []
    for error in _validator(kind).iter_errors(document.data):
        errors.extend(_describe(error, document, shown))
    return errors


def _describe(error: jsonschema.ValidationError, document: Document, shown: str) -> list[ContentError]:
    path = tuple(error.absolute_path)
    line, column = document.position(path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return [
            ContentError(
                shown, *document.position(path + (key,), key=True), format_field(path + (key,)), f"unknown field{hint}"
            )
            for key in extra
        ]
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return [ContentError(shown, line, column, format_field(path + (missing,)), "required field is missing")]
    if "propertyNames" in error.schema_path:
        key = error.instance
        line, column = document.position(path + (key,), key=True)
        return [
            ContentError(shown, line, column, format_field(path + (key,)), "expected a language code such as es or en")
        ]
    message = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if error.validator == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else expected
        if names == ["object"] and message:
            # A translatable text explains itself better than "a map of fields".
            message = message.removeprefix("expected ")
            message = "expected " + message
        else:
            message = "expected " + " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        if error.instance is None:
            message = "is empty: " + message
        if "string" in names and isinstance(error.instance, (int, float)) and "date" in str(path[-1:]):
            message += f'; write it in quotes: "{error.instance}"'
    elif error.validator == "enum":
        message = "expected one of: " + ", ".join(str(v) for v in error.validator_value)
    elif error.validator == "uniqueItems":
        message = "the list repeats an item"
    elif error.validator == "minItems":
        message = "the list must not be empty"
    elif error.validator == "minimum":
        message = f"expected a number of at least {error.validator_value}"
    elif error.validator == "minProperties":
        message = message or "must not be empty"
    elif message is None:
        message = error.message
    return [ContentError(shown, line, column, format_field(path) or "(top level)", message)]
