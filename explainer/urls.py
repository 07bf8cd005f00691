"""Where each page lives, per language, with localized path segments from the UI tables."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .model import Agreement, Entry, Event, Organization, Person, Source, Term
from .strings import Strings

SECTIONS = ("timeline", "people", "glossary", "organizations", "sources", "search", "data")


@dataclass(frozen=True)
class Urls:
    """Builds site paths ('es/cronologia/') and the links and absolute URLs that point to them."""

    base_url: str
    strings: Strings

    @property
    def base_path(self) -> str:
        """Return the path part of the base URL: '/' or '/sub/path/'."""
        return urlsplit(self.base_url).path or "/"

    def home(self, lang: str) -> str:
        """Return the path of a language's home page."""
        return f"{lang}/"

    def section(self, lang: str, name: str) -> str:
        """Return the path of a section index such as the timeline."""
        return f"{lang}/{self.strings.get(lang, 'path.' + name)}/"

    def entry(self, entry: Entry, lang: str) -> str:
        """Return the path of an entry's page, or of its anchor on a list page."""
        if isinstance(entry, Event):
            return self.section(lang, "timeline") + f"{entry.id}/"
        if isinstance(entry, Person):
            return self.section(lang, "people") + f"{entry.id}/"
        if isinstance(entry, Agreement):
            return self.section(lang, "glossary") + f"{entry.id}/"
        if isinstance(entry, Organization):
            return self.section(lang, "organizations") + f"{entry.id}/"
        if isinstance(entry, Term):
            return self.section(lang, "glossary") + f"#{entry.id}"
        if isinstance(entry, Source):
            return self.section(lang, "sources") + f"#{entry.id}"
        raise TypeError(entry)

    def facet(self, lang: str, kind: str, value: str, year: str = "") -> str:
        """Return the path of the timeline filtered by a year, person, agreement or tag (and a year of it)."""
        path = self.section(lang, "timeline") + f"{self.strings.get(lang, 'path.facet.' + kind)}/{value}/"
        return path + f"{year}/" if year else path

    def href(self, path: str) -> str:
        """Return the link to a site path, as used in pages: '/sub/path/es/'."""
        return self.base_path + path

    def absolute(self, path: str) -> str:
        """Return the absolute URL of a site path when the base URL names a host, else the link."""
        return self.base_url + path if "://" in self.base_url else self.href(path)


def output_file(path: str) -> str:
    """Return the file that serves a site path: 'es/' -> 'es/index.html'."""
    return path + "index.html" if path.endswith("/") or not path else path
