"""Property tests: any text given to the loader and validator gives an entry or content errors, never a crash."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import fastjsonschema
import icalendar
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explainer import feeds, markup, schema
from explainer.content import read_entry
from explainer.errors import ContentError
from explainer.markup import MarkdownRenderer, plain_paragraphs, surely_clean, to_plain
from explainer.model import ENTRY_TYPES, Entry
from tests.conftest import FIXTURE, REPO

EXAMPLES = int(os.environ.get("EXPLAINER_FUZZ", "1000"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LANGUAGES = ("es", "en")
RENDERER = MarkdownRenderer()
SAMPLES = [path.read_text("utf-8") for path in sorted((FIXTURE / "content").rglob("*.yml"))]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["2026-02-30", "2026-01-15", "yes", "no", "1:30", "~", "0x1F", ".inf", "[[person:x]]"]),
)
keys = st.one_of(
    st.sampled_from(["title", "date", "status", "summary", "body", "people", "sources", "es", "en", "name", "roles"]),
    st.text(max_size=8),
)
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6), max_leaves=25
)


def _read(tmp: Path, kind: type[Entry], raw: bytes) -> None:
    path = tmp / "fuzzed.yml"
    path.write_bytes(raw)
    entry, errors = read_entry(kind, path, "fuzzed.yml", LANGUAGES, allow_missing=False)
    assert entry is not None or errors
    assert all(isinstance(error, ContentError) and str(error).startswith("fuzzed.yml:") for error in errors)


@SETTINGS
@given(kind=st.sampled_from(ENTRY_TYPES), data=documents)
def test_any_yaml_document_is_an_entry_or_errors(tmp_path_factory, kind, data):
    text = yaml.safe_dump(data, allow_unicode=True)
    _read(tmp_path_factory.mktemp("fuzz"), kind, text.encode("utf-8"))


@SETTINGS
@given(kind=st.sampled_from(ENTRY_TYPES), raw=st.binary(max_size=300))
def test_any_bytes_are_an_entry_or_errors(tmp_path_factory, kind, raw):
    _read(tmp_path_factory.mktemp("fuzz"), kind, raw)


@SETTINGS
@given(
    kind=st.sampled_from(ENTRY_TYPES),
    sample=st.sampled_from(SAMPLES),
    edits=st.lists(st.tuples(st.integers(0, 2000), st.text(max_size=4)), min_size=1, max_size=5),
)
def test_mutated_real_entries_are_entries_or_errors(tmp_path_factory, kind, sample, edits):
    text = sample
    for position, insertion in edits:
        position %= len(text) + 1
        text = text[:position] + insertion + text[position + 1 :]
    _read(tmp_path_factory.mktemp("fuzz"), kind, text.encode("utf-8", "surrogatepass"))


# Pieces of Markdown that make, hide or disguise links: schemes in several cases and spellings,
# entities, brackets, code spans, definitions, autolinks.
LINK_PIECES = [
    "[a](", "](", "](<", ">)", ")", "(", "[", "]", "]:", "![", "<", ">", "`", "\n", " ", "\t", "x", "\\",
    "javascript:", "JaVaScRiPt:", "java\tscript:", "java script:", "data:", "vbscript:", "ftp://h", "//evil",
    "http://example.org", "https://example.org/a(b)", "mailto:a@b.org", "a@b.org", "&#106;", "&colon;",
    "&#x3A;", "&amp;", "[[person:x]]", "[[quote:x|y]]", '"title"', "    ", "- ", "1. ", "*", "/es/", "#a",
    "https://x)", "/(", "//", "\x02",
]  # fmt: skip


@SETTINGS
@given(pieces=st.lists(st.sampled_from(LINK_PIECES), max_size=14))
def test_a_text_passed_without_rendering_has_no_problem_when_rendered(pieces):
    # The quick look may send a clean text to the full check, never let a refused link through.
    text = "".join(pieces)
    if surely_clean(text):
        RENDERER.render(text)
        assert RENDERER.problems == [], text


def test_the_quick_look_passes_ordinary_texts_and_refuses_disguised_links():
    assert surely_clean("See [the agreement](https://example.org/a) and [[person:x|her]].")
    assert surely_clean("- [a](/es/cronologia/#x)\n- [b](mailto:a@b.org)")
    for text in ("[a](javascript:alert(1))", "[a](//evil.example)", "[a][r]\n\n[r]: data:x", "![i](x.png)"):
        assert not surely_clean(text), text
        assert RENDERER.find_problems(text), text


# Characters of prose and of Markdown, the spaces and breaks that shape paragraphs, and the ones the
# serializer or the sanitizer turn into entities.
PROSE_PIECES = [
    "a",
    "Z",
    "ñ",
    "é",
    "1",
    "2019",
    "word",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n\n\n",
    "\t",
    ".",
    ",",
    ";",
    ":",
    "?",
    "¿",
    "!",
    "¡",
    "'",
    '"',
    "%",
    "(",
    ")",
    "/",
    "«",
    "»",
    "“",
    "”",
    "‘",
    "’",
    "—",
    "–",
    "-",
    "--",
    "*",
    "_",
    "#",
    "+",
    "=",
    "[",
    "]",
    "<",
    ">",
    "&",
    "\\",
    "`",
    "~",
    "|",
    "{",
    "}",
    "\u00a0",
    "\u202f",
    "1. ",
    "- ",
    "    ",
    "===",
    "---",
    "\r",
    "&amp;",
    "http://x.org",
    "<b>",
    "*x*",
    "_x_",
    "**x**",
    "`x`",
    "~~x~~",
    "[[person:x]]",
]


# Mostly what the shortcut takes, so that its edges (line starts and ends, blank lines) are tried often.
LINE_PIECES = ["a", "é", "1", "word", " ", "  ", "\n", "\n\n", "\n\n\n", ".", ",", "-", "—", "(", ")", '"', "1. ", "- "]


@SETTINGS
@given(
    pieces=st.one_of(
        st.lists(st.sampled_from(PROSE_PIECES), max_size=16), st.lists(st.sampled_from(LINE_PIECES), max_size=24)
    )
)
def test_plain_prose_renders_as_markdown_and_the_sanitizer_render_it(pieces):
    # The shortcut may send plain prose to Markdown, never answer differently from it.
    text = "".join(pieces)
    if plain_paragraphs(text) is not None:
        assert RENDERER.render(text) == RENDERER.render_fully(text), repr(text)


def test_the_shortcut_takes_ordinary_prose_and_leaves_markdown_to_markdown():
    prose = "Rubio habló con De la Fuente (SRE) el 13 de enero.\n\nNarco-terroristas: “urgente”, ¿no?"
    assert plain_paragraphs(prose) is not None
    assert RENDERER.render(prose) == RENDERER.render_fully(prose)
    for text in ("*a*", "- a", "1. a", "a  \nb", "    code", "a & b", "a\u00a0b", "[[person:x]]", "# t", ""):
        assert plain_paragraphs(text) is None, repr(text)


EVERY_PATTERN = MarkdownRenderer()
EVERY_PATTERN._markdown_for = lambda text: EVERY_PATTERN.md  # never leaves an inline pattern out


@SETTINGS
@given(pieces=st.lists(st.sampled_from(PROSE_PIECES + LINK_PIECES), max_size=16))
def test_leaving_out_patterns_a_text_cannot_match_changes_nothing(pieces):
    # Markdown without the inline patterns whose marks a text lacks renders it as Markdown with all of them.
    text = "".join(pieces)
    RENDERER.problems, EVERY_PATTERN.problems = [], []
    assert RENDERER.render_fully(text) == EVERY_PATTERN.render_fully(text), repr(text)
    assert RENDERER.problems == EVERY_PATTERN.problems, repr(text)


def test_texts_without_marks_are_rendered_without_their_patterns():
    for text, left_out in (
        ("a [b](/c) d", {"backtick", "escape", "autolink", "automail", "entity", "em_strong"}),
        ("a *b* & `c`", {"escape", "autolink", "automail", "link", "reference", "explainer-reference"}),
    ):
        names = {item.name for item in RENDERER._markdown_for(text).inlinePatterns._priority}
        assert left_out.isdisjoint(names) and "linebreak" in names, text
        assert RENDERER.render_fully(text) == EVERY_PATTERN.render_fully(text)


def _plain_by_every_substitution(text: str, lang: str, name_of) -> str:
    # to_plain as it was before it looked for each substitution's marks first: every search, every time.
    def replace(match):
        kind, target, label = match.groups()
        if kind == "quote":
            opening, closing = markup._QUOTE_MARKS.get(lang, ("“", "”"))
            return opening + " ".join((label or target).split()) + closing
        return label or name_of(target.strip())

    flat = markup._ANY_REFERENCE.sub(replace, text)
    flat = markup._INLINE_LINK.sub(lambda match: match.group(1), flat)
    return " ".join(markup._EMPHASIS.sub("", flat).split())


@SETTINGS
@given(pieces=st.lists(st.sampled_from(PROSE_PIECES + LINK_PIECES), max_size=16), lang=st.sampled_from(LANGUAGES))
def test_plain_words_skip_only_substitutions_that_find_nothing(pieces, lang):
    text = "".join(pieces)
    name_of = "Name of {}".format
    assert to_plain(text, lang, name_of) == _plain_by_every_substitution(text, lang, name_of), repr(text)


# Entries a reference may name, with what a page would make of them: some ordinary, some whose target
# or words Markdown or the sanitizer would change.
REFERENCED = {
    "x": ("/es/personas/x/", "María Pérez"),
    "y": ("javascript:alert(1)", "Y"),
    "z": ("../a b/", "Z"),
    "w": ("https://example.org/?a=1&b=2", "W"),
    "v": ("#v", "AT&T <b> *v*"),
    "u": ("/u/", "[u]"),
    "t": ("https://example.org/t/", ""),
}
QUOTED = {"a b": ("en", "in English"), "c": ("es", "en español"), "d e": ("x y", "in <b>")}


def _resolve(kind: str, target: str, label: str | None) -> tuple[str, str]:
    href, name = REFERENCED.get(target, ("/es/otro/", "Otro"))
    return href, label or name


def _label_quote(original: str) -> tuple[str, str]:
    return QUOTED.get(original, ("und", "original"))


# What ordinary long texts are made of, and pieces next to it that Markdown reads otherwise.
SIMPLE_PIECES = [
    "Según ", "dijo", " ", ".", ", ", ":", "(", ")", "]", "|", "«", "»", "\n", "\n", "\n\n", "\n\n\n",
    "- ", "- ", "1. ", "12. ", "-", "1.", "#", ">", "+ ", "* ", "=", "  ", "\t", "!", "~", "0",
    "[[person:x]]", "[[person:x|Ana]]", "[[person:y]]", "[[person:z]]", "[[person:w|W]]", "[[person:v]]",
    "[[person:u]]", "[[person:t]]", "[[term:q|a [b]]", "[[quote:a b]]", "[[quote:a\nb]]", "[[quote:a b|c d]]",
    "[[quote:c|e]]", "[[quote:d e|f]]", "[[quote:a [b|c]]", "[[quote:|x]]", "[a](https://example.org/a)",
    "[a b](/es/x/#y)", "[](#b)", "[a](mailto:a@b.org)", "[a](//evil)", "[a](javascript:x)", "[a](/x?a=1,2)",
    "[a]", "[a]: /x", "[a] (/x)", "[a](/x \"t\")", "![a](/x)", "[[", "]]", "[", "https://example.org",
    "\u2009", "\u3000", "\x85", "\u2028", "\x0c",
]  # fmt: skip


# Lines as long texts are made of them: a marker or none, then words, references, quotes and links.
LINE_STARTS = ["", "", "", "- ", "- ", "1. ", "2. ", "-", "1.", "+ ", "# ", "> ", " ", "[a]: /x"]
INLINE_PIECES = [
    "Ana", "dijo", "é", " ", ".", ",", ":", "(", ")", "«", "»", "1", "-", "!", "|", "]", "[[person:x]]",
    "[[person:x|Ana]]", "[[person:t]]", "[[quote:a b]]", "[[quote:a\nb]]", "[[quote:a b|c d]]",
    "[a](https://example.org/a)", "[a b](/es/x/#y)", "[](#b)", "[a](/x?a=1,2)",
]  # fmt: skip
lines = st.tuples(st.sampled_from(LINE_STARTS), st.lists(st.sampled_from(INLINE_PIECES), max_size=6))
structured = st.lists(st.tuples(lines, st.sampled_from(["\n", "\n", "\n\n", "\n\n\n"])), max_size=8).map(
    lambda parts: "".join(start + "".join(words) + end for (start, words), end in parts)
)


@SETTINGS
@given(text=st.one_of(st.lists(st.sampled_from(SIMPLE_PIECES + PROSE_PIECES), max_size=24).map("".join), structured))
def test_simple_markdown_renders_as_markdown_and_the_sanitizer_render_it(text):
    # The shortcut may decline a text, never answer differently from Markdown and the sanitizer.
    simple = markup.render_simple(text, _resolve, _label_quote)
    if simple is not None:
        RENDERER.resolve, RENDERER.label_quote = _resolve, _label_quote
        assert simple == RENDERER.render_fully(text), repr(text)
        assert RENDERER.problems == [], repr(text)


def test_the_simple_renderer_takes_ordinary_long_texts_and_declines_the_rest():
    body = (
        "Según [[person:x]], la reunión fue «productiva» ([[quote:a b|c d]]).\n\n"
        "- Primero: [[person:x|Ana]].\n- Segundo, [el informe](https://example.org/a).\n\nLuego:\n\n"
        "1. Uno\n2. Dos [[quote:a b]]\n\nFin."
    )
    simple = markup.render_simple(body, _resolve, _label_quote)
    assert simple is not None and '<a href="/es/personas/x/">María Pérez</a>' in simple
    RENDERER.resolve, RENDERER.label_quote = _resolve, _label_quote
    assert simple == RENDERER.render_fully(body)
    for text in (
        "- a\n\n- b",  # a loose list
        "- a\nb",  # a line continuing an item
        "a *b*",
        "[[person:y]]",  # a target the sanitizer refuses
        "[[person:v]]",  # words Markdown would read
        "[a]: /x",
        "a\n# b",
        "a\u00a0b",
        "",
    ):
        assert markup.render_simple(text, _resolve, _label_quote) is None, repr(text)


# Entries of every kind, parsed, to be mutated: most mutations leave a document nearly valid, where
# the quick check and jsonschema could part.
FOLDERS = {"events": "event", "people": "person", "agreements": "agreement", "terms": "term"}
FOLDERS |= {"organizations": "organization", "sources": "source"}
PARSED = [
    (kind, yaml.safe_load(path.read_text("utf-8")))
    for folder, kind in FOLDERS.items()
    for path in sorted((REPO / "content" / folder).glob("*.yml"))
]
PARSED += [(name, yaml.safe_load((REPO / "content" / f"{name}.yml").read_text("utf-8"))) for name in ("site", "home")]
TRICKY = [
    None, True, False, 0, 1, -1, 1.0, 1.5, "", " ", "x", "X-1", "es", "2026-01-15", "2026-13-40", "2026",
    "https://example.org/", "seeds/x.txt", [], [1], ["a", "a"], ["a", "b"], {}, {"es": ""}, {"es": "x"},
    {"es": "x", "en": "y"}, {"es": "x", "fr": "y"}, {"x": 1},
]  # fmt: skip


def _places(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*path, index))


def _mutated(node, path, change):
    if not path:
        return change(node)
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _mutated(node[head], rest, change)}
    return [_mutated(value, rest, change) if index == head else value for index, value in enumerate(node)]


def _change(kind: str, value: object, key: str | None):
    if kind == "replace":
        return lambda node: value
    if kind == "drop":  # a key of a map, or an item of a list
        return lambda node: (
            {k: v for i, (k, v) in enumerate(node.items()) if i != 0} if isinstance(node, dict) and node else
            node[1:] if isinstance(node, list) else node
        )  # fmt: skip
    return lambda node: (
        {**node, key: value} if isinstance(node, dict) else [*node, value] if isinstance(node, list) else node
    )


@SETTINGS
@given(
    sample=st.sampled_from(PARSED),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["replace", "replace", "drop", "add"]),
            st.sampled_from(TRICKY),
            st.sampled_from(["title", "es", "en", "extra", "paragraphs", "quote", "x-note"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_a_document_the_quick_check_accepts_jsonschema_accepts(sample, edits):
    # The quick check (fastjsonschema) may refuse a valid document (jsonschema then finds no problem),
    # never accept one that jsonschema refuses.
    kind, data = sample
    for position, change, value, key in edits:
        places = list(_places(data))
        data = _mutated(data, places[position % len(places)], _change(change, value, key))
    try:
        schema._accepts(kind)(data)
    except fastjsonschema.JsonSchemaValueException:
        return
    assert not list(schema._validator(kind).iter_errors(data)), data


def test_the_quick_check_accepts_every_real_entry_and_refuses_a_wrong_one():
    for kind, data in PARSED:
        schema._accepts(kind)(data)
    kind, data = PARSED[0]
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        schema._accepts(kind)({**data, "unknown": 1})


def test_every_schema_is_valid_and_uses_only_keywords_meaning_the_same_in_draft_7():
    for kind in (*schema.KINDS, "site", "home"):
        validator = schema._validator(kind)
        validator.check_schema(validator.schema)
        schema._accepts(kind)
    with pytest.raises(ValueError, match="unevaluatedProperties"):
        schema._check_keywords({"properties": {"a": {"unevaluatedProperties": False}}}, "x.schema.json")


def _vevent_by_icalendar(uid, start, end, summary, description, status, url) -> bytes:
    # The event as the build made it with icalendar before it wrote the bytes itself.
    item = icalendar.Event()
    item.add("uid", uid)
    item.add("dtstamp", datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC))
    item.add("dtstart", start)
    item.add("dtend", end)
    item.add("summary", summary)
    item.add("description", description)
    item.add("status", status)
    if url is not None:
        item.add("url", url)
    return item.to_ical()


# Texts of every width in octets, with what RFC 5545 escapes and what could split an escape when a
# line is folded.
ICS_TEXT = st.lists(
    st.sampled_from([*"aZ09 .:-/@", *"\\;,^\"'\n\r\t", "\\N", "ñ", "é", "«", "€", "𝄞", "word ", "palabra "]),
    max_size=60,
).map("".join)


@SETTINGS
@given(
    uid=ICS_TEXT,
    start=st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 30)),
    summary=ICS_TEXT,
    description=ICS_TEXT,
    status=st.sampled_from(["CONFIRMED", "TENTATIVE"]),
    url=st.one_of(st.none(), st.lists(st.sampled_from([*"ahé/:.,;?=#%-", "https://"]), max_size=60).map("".join)),
)
def test_calendar_events_are_written_as_icalendar_writes_them(uid, start, summary, description, status, url):
    end = start + datetime.timedelta(days=1)
    ours = feeds.vevent(uid=uid, start=start, end=end, summary=summary, description=description, status=status, url=url)
    assert ours == _vevent_by_icalendar(uid, start, end, summary, description, status, url)


def _head_by_icalendar(name: str) -> bytes:
    # The calendar's head as the build made it with icalendar before it wrote the bytes itself, its name
    # a TEXT value (RFC 5545's default for a non-standard property: commas and line breaks escaped),
    # which icalendar writes as given unless told.
    cal = icalendar.Calendar()
    cal.add("prodid", "-//explainer//static site generator//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", icalendar.vText(name))
    return cal.to_ical().removesuffix(b"END:VCALENDAR\r\n")


@SETTINGS
@given(name=ICS_TEXT)
def test_a_calendars_head_is_written_as_icalendar_writes_it(name):
    assert feeds.calendar_head(name) == _head_by_icalendar(name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(value=json_values, depth=st.integers(0, 3))
def test_records_are_indented_as_json_indents_them(value, depth):
    indent = "\n" + "  " * depth
    expected = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).replace("\n", indent)
    assert feeds.indented_json(value, indent) == expected
