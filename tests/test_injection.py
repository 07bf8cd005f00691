"""No content field can inject markup or script into any output: every payload is shown as text."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markupsafe import escape

from explainer.pipeline import build
from tests.conftest import Project

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</script><script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<iframe src=//evil.example></iframe>",
    "{{ 7*7 }} {% raw %} ${7*7}",
    "<style>body{display:none}</style>",
    "<!-- --><script>alert(1)</script>",
]
OUR_SCRIPTS = {"search.js", "timeline.js"}


def _dump(path: Path, data) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), "utf-8")


def _load(path: Path):
    return yaml.safe_load(path.read_text("utf-8"))


def _both(text: str) -> dict:
    return {"es": text, "en": text}


def inject(project: Project, payload: str) -> None:
    """Put the payload in every kind of field the fixture has: plain texts, Markdown, names, quotes."""
    content = project.root / "content"
    site = _load(content / "site.yml")
    site["title"] = _both("T " + payload)
    site["description"] = _both("D " + payload)
    site["tags"] = {"dialogo": _both("Tag " + payload)}
    _dump(content / "site.yml", site)

    seed = project.root / "seeds" / "report.txt"
    seed.write_text(seed.read_text("utf-8") + f"\nThe minister wrote: {payload}\n", "utf-8")

    event = _load(content / "events/meeting.yml")
    event["title"] = _both("Title " + payload)
    event["summary"] = _both("Summary " + payload)
    event["body"] = {"es": f"Body {payload} [[quote:{payload}|{payload}]]", "en": f"Body {payload} [[quote:{payload}]]"}
    event["sources"] = [{"source": "report", "paragraphs": [1, 4], "quote": payload}]
    _dump(content / "events/meeting.yml", event)

    person = _load(content / "people/ana-nunez.yml")
    person["name"] = "Ana " + payload
    person["bio"] = _both("Bio " + payload)
    person["name_note"] = _both("Note " + payload)
    person["roles"][0]["title"] = _both("Role " + payload)
    _dump(content / "people/ana-nunez.yml", person)

    agreement = _load(content / "agreements/new-pact.yml")
    agreement["name"] = _both("Pact " + payload)
    agreement["pillars"] = [_both("Pillar " + payload)]
    _dump(content / "agreements/new-pact.yml", agreement)

    term = _load(content / "terms/border.yml")
    term["definition"] = _both("Definition " + payload)
    _dump(content / "terms/border.yml", term)

    organization = _load(content / "organizations/ministry.yml")
    organization["name"] = _both("Ministry " + payload)
    _dump(content / "organizations/ministry.yml", organization)

    source = _load(content / "sources/report.yml")
    source["title"] = _both("Report " + payload)
    source["publisher"] = "Publisher " + payload
    source["author"] = "Author " + payload
    source["note"] = _both("Note " + payload)
    _dump(content / "sources/report.yml", source)

    home = _load(content / "home.yml")
    home["title"] = _both("Home " + payload)
    home["lede"] = _both("Lede " + payload)
    home["sections"][1]["heading"] = _both("Heading " + payload)
    home["sections"][1]["body"] = _both("Section " + payload)
    _dump(content / "home.yml", home)


class Elements(HTMLParser):
    """Every element and attribute of a page, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in ("iframe", "img", "style", "object", "embed"):
            self.problems.append(f"<{tag}>")
        if tag == "script":
            src = values.get("src") or ""
            if values.get("type") != "application/ld+json" and src.rsplit("/", 1)[-1] not in OUR_SCRIPTS:
                self.problems.append(f"<script {values}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if (
                name in ("href", "src", "action")
                and value
                and value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))
            ):
                self.problems.append(f"<{tag} {name}={value}>")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_field_come_out_as_text(project: Project, payload: str):
    inject(project, payload)
    outputs = build(project, write=False).outputs
    pages = {name: data.decode("utf-8") for name, data in outputs.items() if name.endswith(".html")}
    for name, page in pages.items():
        parser = Elements()
        parser.feed(page)
        assert parser.problems == [], name
    # The payload did reach the pages, as escaped text (and content that looks like a template stays as written).
    event_page = pages["en/timeline/meeting/index.html"]
    assert str(escape("Title " + payload)) in event_page
    assert str(escape("Ana " + payload)) in pages["en/people/ana-nunez/index.html"]
