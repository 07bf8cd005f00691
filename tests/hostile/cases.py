"""The hostile and broken inputs: each is a small change to the fixture project that the build must refuse.

Each case maps files (relative to the project) to new contents: text, bytes, None to delete the file,
a Symlink, or a function from the file's current text to its new text. The lines each must print, one compiler-style line per problem, are in expected.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to create instead of a file."""

    target: str


@dataclass(frozen=True)
class Case:
    """One broken project: the files to change (its expected lines are in expected.py)."""

    name: str
    files: dict


EVENT = "content/events/talks.yml"
TALKS = (
    'date: "2024-06"\nstatus: announced\ntitle: {es: Conversaciones, en: Talks}\n'
    "summary: {es: Conversaciones previstas., en: Planned talks.}\npeople: [ana-nunez]\n"
    "agreements: [new-pact]\nsources: [{source: report, paragraphs: [3]}]\n"
)


def talks(**replacements: str) -> str:
    """The fixture's talks event with some of its text replaced."""
    text = TALKS
    for old, new in replacements.items():
        text = text.replace(old.replace("_", " "), new)
    return text


def nested(depth: int) -> str:
    return "title: " + "[" * depth + "]" * depth + "\n"


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8)
)

CASES = [
    # YAML syntax
    Case("unclosed flow mapping", {EVENT: TALKS.replace("en: Talks}", "en: Talks")}),
    Case("value where a key was expected", {EVENT: TALKS.replace("status: announced", "status: announced: yes")}),
    Case("unclosed quote", {EVENT: TALKS.replace('date: "2024-06"', 'date: "2024-06')}),
    Case("bad indentation", {EVENT: TALKS.replace("people: [ana-nunez]", "  people: [ana-nunez]")}),
    Case("tab indentation", {EVENT: TALKS + "body:\n\tes: Texto\n"}),
    Case("two documents in one file", {EVENT: TALKS + "---\ntitle: {es: Otra, en: Other}\n"}),
    # Encoding and file shape
    Case("byte-order mark", {EVENT: b"\xef\xbb\xbf" + TALKS.encode()}),
    Case("empty file", {EVENT: ""}),
    Case("only a comment", {EVENT: "# nothing yet\n"}),
    Case("binary garbage", {EVENT: bytes(range(256)) * 4}),
    Case("latin-1 text", {EVENT: TALKS.replace("Conversaciones,", "Conversación,").encode("latin-1")}),
    Case("control character", {EVENT: TALKS.replace("Planned talks.", "Planned\x07 talks.")}),
    Case("escaped control character", {EVENT: TALKS.replace("en: Planned talks.", 'en: "Planned\\a talks."')}),
    Case("top level is a list", {EVENT: "- date: 2024\n"}),
    Case("ten megabyte field", {EVENT: TALKS + "body: {es: " + "a" * 10_000_000 + ", en: b}\n"}),
    # Types the YAML 1.1 way
    Case("YAML 1.1 boolean", {EVENT: TALKS.replace("status: announced", "status: yes")}),
    Case("sexagesimal number", {EVENT: TALKS.replace('date: "2024-06"', "date: 1:30")}),
    Case("unquoted number as title", {EVENT: TALKS.replace("en: Talks}", "en: 2024}")}),
    Case("python tag", {EVENT: TALKS + "body: !!python/object/apply:os.system ['true']\n"}),
    # Bombs
    Case("billion laughs", {EVENT: BILLION_LAUGHS}),
    Case("deep nesting", {EVENT: nested(5000)}),
    # Schema
    Case("unknown field", {EVENT: TALKS + "colour: red\n"}),
    Case("wrong type", {EVENT: TALKS.replace("people: [ana-nunez]", "people: ana-nunez")}),
    Case("missing required fields", {EVENT: 'date: "2024-06"\ntitle: {es: Conversaciones, en: Talks}\n'}),
    Case("null title", {EVENT: TALKS.replace("title: {es: Conversaciones, en: Talks}", "title:")}),
    Case("impossible date", {EVENT: TALKS.replace('"2024-06"', '"2026-02-30"')}),
    Case("month thirteen", {EVENT: TALKS.replace('"2024-06"', '"2026-13"')}),
    Case("missing translation", {EVENT: TALKS.replace(", en: Talks}", "}")}),
    Case("unknown language", {EVENT: TALKS.replace("en: Talks}", "en: Talks, fr: Pourparlers}")}),
    Case("empty translation", {EVENT: TALKS.replace("en: Talks}", 'en: " "}')}),
    # References
    Case("unknown person in a list", {EVENT: TALKS.replace("[ana-nunez]", "[ana-nunez, nadie]")}),
    Case(
        "unknown reference in Markdown",
        {EVENT: TALKS + "body: {es: 'Con [[person:nadie]].', en: 'With [[person:ana-nunez]].'}\n"},
    ),
    Case("reference to the wrong kind", {EVENT: TALKS.replace("agreements: [new-pact]", "agreements: [ana-nunez]")}),
    Case(
        "wrong kind in Markdown",
        {EVENT: TALKS + "body: {es: 'Véase [[agreement:ana-nunez]].', en: 'See [[term:border]].'}\n"},
    ),
    Case("unknown kind in Markdown", {EVENT: TALKS + "body: {es: 'Véase [[place:mexico]].', en: See it.}\n"}),
    Case("id leaving the site in a list", {EVENT: TALKS.replace("[ana-nunez]", "[../../etc/passwd]")}),
    Case("id leaving the site in Markdown", {EVENT: TALKS + "body: {es: 'Véase [[person:../../x]].', en: See it.}\n"}),
    Case(
        "duplicate ids across kinds",
        {
            "content/people/talks.yml": "name: Talks\ncountry: mx\nsummary: {es: X., en: X.}\nsources: [{source: report, paragraphs: [1]}]\n"
        },
    ),
    Case(
        "cycle in replaces",
        {
            "content/agreements/old-pact.yml": "name: {es: Pacto viejo, en: Old pact}\nkind: framework\nreplaces: [new-pact]\nsummary: {es: Viejo., en: Old.}\nsources: [{source: report, paragraphs: [1]}]\n"
        },
    ),
    Case("unknown tag", {EVENT: TALKS + "tags: [comercio]\n"}),
    # Citations and quotes
    Case("paragraph beyond the source", {EVENT: TALKS.replace("paragraphs: [3]", "paragraphs: [3, 99]")}),
    Case("paragraph zero", {EVENT: TALKS.replace("paragraphs: [3]", "paragraphs: [0]")}),
    Case(
        "quote not in its paragraph",
        {EVENT: TALKS.replace("paragraphs: [3]}", "paragraphs: [3], quote: The talks were cancelled}")},
    ),
    Case(
        "Markdown quote not verbatim",
        {
            EVENT: TALKS
            + "body: {es: '[[quote:talks are cancelled|canceladas]]', en: '[[quote:talks are cancelled]]'}\n"
        },
    ),
    Case("citation of an unknown source", {EVENT: TALKS.replace("source: report", "source: rumour")}),
    Case("source text missing", {"seeds/report.txt": None}),
    # File names
    Case("upper-case file name", {"content/events/Talks2.yml": TALKS}),
    Case(
        "ids differing only in case",
        {
            "content/people/Ana-Nunez.yml": "name: Ana\ncountry: mx\nsummary: {es: X., en: X.}\nsources: [{source: report, paragraphs: [1]}]\n"
        },
    ),
    Case("file name with a space", {"content/events/talks 2.yml": TALKS}),
    Case("non-ASCII file name", {"content/events/reunión.yml": TALKS}),
    Case("wrong extension", {"content/events/talks2.yaml": TALKS}),
    Case("symlink out of the content", {"content/events/passwd.yml": Symlink("/etc/passwd")}),
    Case("unknown folder", {"content/places/mexico.yml": "name: México\n"}),
    # Links in text
    Case(
        "javascript link",
        {EVENT: TALKS + "body: {es: '[clic](javascript:alert(1))', en: '[click](JaVaScRiPt:alert(1))'}\n"},
    ),
    Case(
        "obfuscated data link",
        {EVENT: TALKS + "body: {es: '[a](&#100;ata:text/html;base64,PHNjcmlwdD4=)', en: '[a]( vbscript:msgbox)'}\n"},
    ),
    # Site files
    Case(
        "site.yml without languages",
        {"content/site.yml": "id: t\ndefault_language: es\nbase_url: /\ntitle: {es: T}\ndescription: {es: D}\n"},
    ),
    Case(
        "a UI string missing in one language",
        {"layouts/strings/en.yml": lambda text: text.replace("nav.people:", "nav.pople:")},
    ),
]
