"""`build.py new KIND ID`: write a new entry with every field of its schema and every language, ready to fill."""

from __future__ import annotations

import json
import sys

from .content import ID_PATTERN, Project, read_site_config
from .model import TYPE_BY_KIND
from .schema import SCHEMA_DIR


def write_new_entry(project: Project, kind: str, entry_id: str) -> int:
    """Write content/<folder>/<id>.yml for a new entry; return the exit code."""
    if not ID_PATTERN.match(entry_id):
        print(
            f"build.py new: '{entry_id}' is not an id: use lowercase ASCII letters, digits and single '-'",
            file=sys.stderr,
        )
        return 1
    site, errors = read_site_config(project)
    if site is None:
        for error in errors:
            print(error, file=sys.stderr)
        return 1
    path = project.content / TYPE_BY_KIND[kind].folder / f"{entry_id}.yml"
    if path.exists():
        print(f"build.py new: {project.shown(path)} already exists", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(entry_skeleton(kind, site.languages), encoding="utf-8")
    print(
        f"wrote {project.shown(path)}: fill in every empty value, delete the optional fields you do not need, then build"
    )
    return 0


def entry_skeleton(kind: str, languages: tuple[str, ...]) -> str:
    """Return the YAML text of an empty entry of `kind`: each field of the schema, required ones first."""
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text("utf-8"))
    required = schema.get("required", [])
    lines = [f"# yaml-language-server: $schema=../../explainer/schemas/{kind}.schema.json", f"# {schema['title']}"]
    names = required + [name for name in schema["properties"] if name not in required]
    for name in names:
        spec = schema["properties"][name]
        note = "required" if name in required else "optional"
        if spec.get("description"):
            note += f": {spec['description']}"
        lines.append(f"# {name} ({note})")
        lines.extend(_field_lines(name, spec, languages))
    return "\n".join(lines) + "\n"


def _field_lines(name: str, spec: dict, languages: tuple[str, ...]) -> list[str]:
    ref = spec.get("$ref", "").rsplit("/", 1)[-1]
    if ref == "text":
        return [f"{name}:"] + [f'  {lang}: ""' for lang in languages]
    if ref == "texts":
        return [f"{name}:", "  - " + "\n    ".join(f'{lang}: ""' for lang in languages)]
    if ref == "citations":
        return [
            f"{name}:",
            '  - source: ""',
            "    paragraphs: []",
            '    # quote: "verbatim words from those paragraphs"',
        ]
    if ref == "citation":
        return [f"{name}:", "  source: ", "  paragraphs: []"]
    if ref == "ids":
        return [f"{name}: []"]
    if ref in ("date", "id", "country") or spec.get("type") == "string":
        return [f'{name}: ""']
    if "enum" in spec:
        return [f"{name}: {spec['enum'][0]}  # one of: {', '.join(spec['enum'])}"]
    if spec.get("type") == "boolean":
        return [f"{name}: false"]
    if spec.get("type") == "array" and spec["items"].get("type") == "object":
        item = spec["items"]
        lines = [f"{name}:"]
        for index, (sub, sub_spec) in enumerate(item["properties"].items()):
            sub_lines = _field_lines(sub, sub_spec, languages)
            prefix = "  - " if index == 0 else "    "
            lines.append(prefix + sub_lines[0])
            lines.extend("    " + line for line in sub_lines[1:])
        return lines
    if spec.get("type") == "array":
        return [f"{name}: []"]
    return [f"{name}: "]
