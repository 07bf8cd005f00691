"""Markdown for long texts: no raw HTML, only safe link schemes, [[kind:id|label]] references resolved.

[[quote:original words]] quotes a source in its own language; [[quote:original words|translation]]
shows a translation marked as such, followed by the original with its language.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable

import markdown
import nh3
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString
from markupsafe import Markup

Resolver = Callable[[str, str, str | None], tuple[str, str]]
"""(kind, id, label or None) -> (href, text) for an inline reference."""

QuoteLabeler = Callable[[str], tuple[str, str]]
"""original words -> (language of the original, words that introduce it, such as "in Spanish")."""

_REFERENCE = r"\[\[([a-z]+):([a-z0-9-]+)(?:\|([^\]]+))?\]\]"
_QUOTE = r"\[\[quote:([^\]|]+)(?:\|([^\]]+))?\]\]"
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_ALLOWED_SCHEMES = {"http", "https", "mailto"}
_ALLOWED_ATTRIBUTES = {"a": {"href"}, "q": {"lang"}, "span": {"class", "lang"}}
_ALLOWED_TAGS = {
    "p",
    "a",
    "em",
    "strong",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "br",
    "hr",
    "h3",
    "h4",
    "q",
    "span",
}


_ANY_REFERENCE = re.compile(r"\[\[([a-z]+):([^\]|]+)(?:\|([^\]]+))?\]\]")
_INLINE_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<!\w)[*_]{1,2}|[*_]{1,2}(?!\w)")
_QUOTE_MARKS = {"es": ("«", "»")}


def to_plain(text: str, lang: str, name_of: Callable[[str], str]) -> str:
    """Return Markdown as plain words for metadata and feeds: references by their names, quotes marked."""

    def replace(match: re.Match) -> str:
        kind, target, label = match.groups()
        if kind == "quote":
            opening, closing = _QUOTE_MARKS.get(lang, ("“", "”"))
            return opening + " ".join((label or target).split()) + closing
        return label or name_of(target.strip())

    if "[" not in text and "*" not in text and "_" not in text:
        return " ".join(text.split())  # most summaries: nothing the substitutions below would find
    flat = _ANY_REFERENCE.sub(replace, text) if "[[" in text else text
    # Links keep their words; emphasis marks go. Each search only where its marks are: scanning for
    # emphasis costs ten times what splitting the words does.
    if "](" in flat:
        flat = _INLINE_LINK.sub(lambda match: match.group(1), flat)
    if "*" in flat or "_" in flat:
        flat = _EMPHASIS.sub("", flat)
    return " ".join(flat.split())


def check_url(url: str) -> str | None:
    """Return why a link target is refused, or None when it is http(s), mailto or site-relative."""
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(url)).lower()
    match = _SCHEME.match(cleaned)
    if match and match.group(1) not in _ALLOWED_SCHEMES:
        return f"link '{url}' is refused: only http(s), mailto and site-relative links are allowed"
    if cleaned.startswith("//"):
        return f"link '{url}' is refused: write the scheme (https://)"
    return None


# An inline link whose target is plainly allowed: http(s), mailto, a site path or an anchor, with no
# character that Markdown would treat specially inside it.
_PLAIN_LINK = re.compile(r"\]\((?:https?://|mailto:|/(?!/)|#)[^\s()\[\]<>]*\)")
# Whatever could make a link some other way (definitions, autolinks, images), or change a target
# (escapes, entities, Markdown's own placeholders).
_UNSURE = ("![", "]:", "<", "\\", "&", "\x02", "\x03")


def surely_clean(text: str) -> bool:
    """Return True only when a text certainly has no refused link or image, without rendering it.

    Rendering is most of the cost of checking a large site's texts, and most texts are fine: a text
    whose every link is an inline one to a plainly allowed target is one. Anything else, however
    harmless, goes to the full check.
    """
    if any(mark in text for mark in _UNSURE):
        return False
    return text.count("](") == len(_PLAIN_LINK.findall(text))


# Prose with no character Markdown gives a meaning to anywhere in a line, nor one that its serializer
# or the sanitizer writes as an entity (&, <, >, no-break spaces); hyphens and digits are plain but
# start lists at the beginning of a line; lines must not start or end with spaces (code blocks, hard
# breaks).
# One search for the first other character: most long texts have a link or a list early on.
_NOT_PLAIN_CHARACTER = re.compile(r"[^\w \n.,;:?¿!¡'\"%()/«»“”‘’—–-]|_")
_NOT_PLAIN_LINE = re.compile(r"^[\d \t-]|[ \t]$", re.MULTILINE)


def plain_paragraphs(text: str) -> list[str] | None:
    """Return the paragraphs of a text that Markdown would only wrap in <p> elements, or None for any other."""
    if not text.strip() or _NOT_PLAIN_CHARACTER.search(text) or _NOT_PLAIN_LINE.search(text.strip("\n")):
        return None
    return [paragraph.strip("\n") for paragraph in re.split(r"\n{2,}", text.strip("\n"))]


# The Markdown most long texts are written in: paragraphs and tight lists of plain lines, with inline
# links to plainly allowed targets, references and quotes. `render_simple` writes what Markdown and the
# sanitizer would for these, and declines anything else (a property test holds it to that).
# Declined anywhere: the marks of the other inline patterns (emphasis, code, escapes, entities, raw HTML),
# what the serializer or the sanitizer write as entities (&, <, >, no-break spaces), characters that
# break lines other than \n, other control characters and spaces but " " (one search finds them all:
# the only spaces left are then " " and "\n"); then images, reference definitions, and lines that
# start or end with a space (code blocks, list continuations, hard breaks).
# What declines a text, and the words of a reference or quote label (which may not break a line either).
_MARKED = r"\x0b-\x1f\x7f-\x9f*_&<>\\`\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOT_SIMPLE_CHARACTER = re.compile(rf"[\x00-\x09{_MARKED}]")
_DEFINITION = re.compile(r"\[[^\[\]]*\]:")
# A list item's marker; a line that would start any other block (or a list, inside a paragraph).
_LIST_ITEM = re.compile(r"(?:-|\d+\.) (?=\S)")
_BLOCK_START = re.compile(r"[#>+=~|:\d-]")
_BLOCKS = re.compile(r"\n{2,}")
_SIMPLE_LINK = re.compile(r"\[([^\[\]]*)\]\(((?:https?://|mailto:|/(?!/)|#)[\w/.~#%?=+@:,-]*)\)", re.ASCII)
_SIMPLE_REFERENCE = re.compile(_REFERENCE)
_SIMPLE_QUOTE = re.compile(r"\[\[quote:([^\]|\[]+)(?:\|([^\]\[]+))?\]\]")
# What a resolved reference may be and still be written as it is: its text goes through Markdown's
# other inline patterns, its target through the sanitizer's check of schemes.
_SIMPLE_HREF = re.compile(r"(?:https?://[\w.-]+)?[\w/.~#%?=+@,-]*", re.ASCII)
_NOT_SIMPLE_WORDS = re.compile(rf"[\x00-\x0a{_MARKED}\[\]]")
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*")


def render_simple(text: str, resolve: Resolver, label_quote: QuoteLabeler) -> str | None:
    """Return the HTML Markdown and the sanitizer would make of a text of plain paragraphs and tight lists, or None."""
    if (
        _NOT_SIMPLE_CHARACTER.search(text)
        or "![" in text
        or ("]:" in text and _DEFINITION.search(text))
        or " \n" in text
        or "\n " in text
        or text.startswith(" ")
        or text.endswith(" ")
    ):
        return None
    html: list[str] = []
    after_list = False
    for block in _BLOCKS.split(text.strip("\n")):
        lines = block.split("\n")
        if _LIST_ITEM.match(lines[0]):
            # A list right after another one, past a blank line, makes one loose list of both.
            if after_list:
                return None
            items = []
            for line in lines:
                marker = _LIST_ITEM.match(line)
                if marker is None or _BLOCK_START.match(line, marker.end()):
                    return None  # a line continuing an item, or an item that starts another block
                inline = _render_inline(line[marker.end() :], resolve, label_quote)
                if inline is None:
                    return None
                items.append(f"<li>{inline}</li>")
            tag = "ol" if lines[0][0].isdigit() else "ul"
            html.append(f"<{tag}>\n" + "\n".join(items) + f"\n</{tag}>")
            after_list = True
        else:
            if not block or any(_BLOCK_START.match(line) for line in lines):
                return None
            inline = _render_inline(block, resolve, label_quote)
            if inline is None:
                return None
            html.append(f"<p>{inline}</p>")
            after_list = False
    return "\n".join(html) if html else None


def _render_inline(text: str, resolve: Resolver, label_quote: QuoteLabeler) -> str | None:
    # Text runs as they are, and at each "[" a quote, a reference or an inline link, or None.
    pieces = []
    position = 0
    while (start := text.find("[", position)) >= 0:
        pieces.append(text[position:start])
        if match := _SIMPLE_QUOTE.match(text, start):
            original = " ".join(match.group(1).split())
            if match.group(2) is None:
                pieces.append(f"<q>{original}</q>")
            else:
                lang, introduction = label_quote(original)
                if _NOT_SIMPLE_WORDS.search(introduction) or not _LANGUAGE_TAG.fullmatch(lang):
                    return None
                translation = " ".join(match.group(2).split())
                pieces.append(
                    f'<span class="quote"><q>{translation}</q><span class="original"> ({introduction}: '
                    f'<q lang="{lang}">{original}</q>)</span></span>'
                )
        elif match := _SIMPLE_REFERENCE.match(text, start):
            href, words = resolve(match.group(1), match.group(2), match.group(3))
            if _NOT_SIMPLE_WORDS.search(words) or not _SIMPLE_HREF.fullmatch(href):
                return None
            pieces.append(f'<a href="{href}">{words}</a>')
        elif match := _SIMPLE_LINK.match(text, start):
            pieces.append(f'<a href="{match.group(2)}">{match.group(1)}</a>')
        else:
            return None
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


# Inline patterns (Python-Markdown's names and ours) by the characters one of which each match contains.
_PATTERN_MARKS = (
    (("`",), ("backtick",)),
    (("\\",), ("escape",)),
    (("<",), ("autolink", "automail")),
    (("&",), ("entity",)),
    (("*", "_"), ("em_strong",)),
    (
        ("[",),
        (
            "explainer-quote",
            "explainer-reference",
            "reference",
            "link",
            "image_link",
            "image_reference",
            "short_reference",
            "short_image_ref",
        ),
    ),
)


class _ReferenceProcessor(InlineProcessor):
    def __init__(self, renderer: MarkdownRenderer):
        super().__init__(_REFERENCE)
        self.renderer = renderer

    def handleMatch(self, m, data):  # noqa: N802 (Python-Markdown's name)
        href, text = self.renderer.resolve(m.group(1), m.group(2), m.group(3))
        element = etree.Element("a", {"href": href})
        element.text = text
        return element, m.start(0), m.end(0)


class _QuoteProcessor(InlineProcessor):
    def __init__(self, renderer: MarkdownRenderer):
        super().__init__(_QUOTE)
        self.renderer = renderer

    def handleMatch(self, m, data):  # noqa: N802 (Python-Markdown's name)
        original = " ".join(m.group(1).split())
        if m.group(2) is None:
            quote = etree.Element("q")
            quote.text = AtomicString(original)
            return quote, m.start(0), m.end(0)
        lang, introduction = self.renderer.label_quote(original)
        wrapper = etree.Element("span", {"class": "quote"})
        translation = etree.SubElement(wrapper, "q")
        translation.text = AtomicString(" ".join(m.group(2).split()))
        note = etree.SubElement(wrapper, "span", {"class": "original"})
        note.text = AtomicString(f" ({introduction}: ")
        source = etree.SubElement(note, "q", {"lang": lang})
        source.text = AtomicString(original)
        source.tail = ")"
        return wrapper, m.start(0), m.end(0)


class _LinkChecker(Treeprocessor):
    def __init__(self, md, renderer: MarkdownRenderer):
        super().__init__(md)
        self.renderer = renderer

    def run(self, root):
        for element in root.iter("a"):
            problem = check_url(element.get("href", ""))
            if problem:
                self.renderer.problems.append(problem)
                element.attrib.pop("href", None)
        for element in list(root.iter("img")):
            self.renderer.problems.append("images are not allowed in text fields")
            element.tag, element.attrib = "span", {}
        return None


class MarkdownRenderer:
    """Renders content Markdown to safe HTML; one instance is reused across texts."""

    def __init__(self) -> None:
        self.md = self._markdown(frozenset())
        # One Markdown per set of inline patterns left out (see `_markdown_for`).
        self._variants: dict[frozenset[str], markdown.Markdown] = {frozenset(): self.md}
        self.resolve: Resolver = _unresolved
        self.label_quote: QuoteLabeler = _unlabeled
        self.problems: list[str] = []

    def render(self, text: str, resolve: Resolver = None, label_quote: QuoteLabeler = None) -> Markup:
        """Render block Markdown with references resolved by `resolve` and quotes introduced by `label_quote`."""
        self.resolve = resolve or _unresolved
        self.label_quote = label_quote or _unlabeled
        self.problems = []
        paragraphs = plain_paragraphs(text)
        if paragraphs is not None:
            # Most short texts are plain prose: what Markdown and the sanitizer would give, at once.
            return Markup("\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs))
        simple = render_simple(text, self.resolve, self.label_quote)
        if simple is not None:
            # Most long texts: paragraphs, lists, links and references, a tenth of Markdown's time.
            return Markup(simple)
        return self.render_fully(text)

    def render_fully(self, text: str) -> Markup:
        """Render block Markdown through Markdown and the sanitizer, even plain prose (see `render`)."""
        md = self._markdown_for(text)
        md.reset()
        produced = md.convert(text)
        return Markup(
            nh3.clean(
                produced,
                tags=_ALLOWED_TAGS,
                attributes=_ALLOWED_ATTRIBUTES,
                url_schemes=_ALLOWED_SCHEMES,
                link_rel=None,
            )
        )

    def _markdown(self, left_out: frozenset[str]) -> markdown.Markdown:
        # Python-Markdown with our patterns, without raw HTML and without the inline patterns `left_out`.
        md = markdown.Markdown(extensions=[], output_format="html")
        # Raw HTML in content is shown as text, never passed through.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(_QuoteProcessor(self), "explainer-quote", 176)
        md.inlinePatterns.register(_ReferenceProcessor(self), "explainer-reference", 175)
        md.treeprocessors.register(_LinkChecker(md, self), "explainer-links", 1)
        for name in left_out:
            md.inlinePatterns.deregister(name)
        return md

    def _markdown_for(self, text: str) -> markdown.Markdown:
        # Each inline pattern is searched for in every run of text, and most long texts lack the only
        # characters some patterns start with: those are left out, a fifth of Markdown's time. Nothing
        # before the inline patterns adds these characters, so a pattern left out could never have matched.
        left_out = frozenset(
            name for marks, names in _PATTERN_MARKS for name in names if not any(m in text for m in marks)
        )
        md = self._variants.get(left_out)
        if md is None:
            md = self._variants[left_out] = self._markdown(left_out)
        return md

    def render_inline(self, text: str, resolve: Resolver = None, label_quote: QuoteLabeler = None) -> Markup:
        """Render a one-paragraph text without its <p> wrapper."""
        produced = str(self.render(text, resolve, label_quote)).strip()
        if produced.startswith("<p>") and produced.endswith("</p>") and produced.count("<p>") == 1:
            produced = produced[3:-4]
        return Markup(produced)

    def find_problems(self, text: str) -> list[str]:
        """Return why any link or image in a text is refused."""
        if surely_clean(text):
            return []
        self.render(text)
        return list(self.problems)


def _unresolved(kind: str, target: str, label: str | None) -> tuple[str, str]:
    return "#", label or target


def _unlabeled(original: str) -> tuple[str, str]:
    return "und", "original"
