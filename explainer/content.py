"""Read content/: every entry file parsed, checked against its schema, and turned into model entries."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from .dates import PartialDate, parse_date
from .errors import ContentError, format_field
from .ignored import ignored_name
from .model import (
    KIND_BY_FOLDER,
    Agreement,
    Citation,
    Entry,
    Event,
    Home,
    HomeSection,
    Organization,
    Person,
    Positions,
    Role,
    SiteConfig,
    Source,
    Term,
)
from .parallel import map_in_order
from .schema import validate_document
from .yamlfile import Document, parse_bytes, read_yaml

PARALLEL_FROM = 200
"""Below this many entry files, one process reads them faster than several."""

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SITE_FILE = "site.yml"
HOME_FILE = "home.yml"


@dataclass(frozen=True)
class Project:
    """Where a project's parts live."""

    root: Path
    content: Path
    layouts: Path
    output: Path

    def shown(self, path: Path) -> str:
        """Return a path as error messages show it: relative to the project root."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def read_site_config(project: Project) -> tuple[SiteConfig | None, list[ContentError]]:
    """Read content/site.yml."""
    path = project.content / SITE_FILE
    shown = project.shown(path)
    if not path.is_file():
        return None, [ContentError(shown, 0, 0, "", "file is missing: it names the languages and the site title")]
    document, errors = read_yaml(path, shown)
    if document is None:
        return None, errors
    errors = validate_document("site", document, shown)
    if errors:
        return None, errors
    data = document.data
    languages = tuple(data["languages"])
    if data["default_language"] not in languages:
        line, column = document.position(("default_language",))
        return None, [ContentError(shown, line, column, "default_language", "is not one of the languages")]
    config = SiteConfig(
        data["id"],
        languages,
        data["default_language"],
        data["base_url"],
        data["title"],
        data["description"],
        data.get("tags", {}),
    )
    errors = _check_texts(document, ("title", "description", "tags"), languages, shown, allow_missing=False)[1]
    return (None if errors else config), errors


@dataclass(frozen=True)
class EntryFiles:
    """What reading content/ found: the entries, the ids that failed to load, every problem, and digests."""

    entries: list[Entry]
    unreadable: set[str]
    errors: list[ContentError]
    digests: dict[str, str]
    """Each entry's digest (its file's path, kind and bytes), by id: what a page that shows it depends on."""
    memo: dict[str, tuple[Entry | None, list[ContentError]]]
    """Parse results by digest, for the next build to reuse."""
    parsed: int
    """How many files had to be parsed (not found in the memo)."""


EntryFile = tuple[type[Entry], Path, str, str, bytes | None, str | None]
"""An entry file: its kind, folder, name, the path errors show, its bytes (None if unreadable) and its key."""


def list_entry_files(
    project: Project,
    languages: tuple[str, ...],
    *,
    allow_missing: bool,
    read: Mapping[str, bytes] | None = None,
    digests: Mapping[str, str] | None = None,
) -> tuple[list[EntryFile], list[ContentError]]:
    """Return every entry file under content/ in a stable order, with its bytes and key, and the problems of
    files and folders that do not belong there.

    A file's key is the digest of everything its parsed entry depends on: its bytes, path and kind, and
    the options. `read` holds the bytes (by path) of files this build has read already, and `digests`
    the `file_digest` of files it knows unchanged without reading them: those are given without their
    bytes (None), for `read_entries` to read if it needs them.
    """
    errors: list[ContentError] = []
    files: list[EntryFile] = []
    options = ",".join(languages)
    for path in sorted(project.content.iterdir()):
        shown = project.shown(path)
        if ignored_name(path.name) or (path.is_file() and path.name in (SITE_FILE, HOME_FILE)):
            continue
        if not path.is_dir() or path.name not in KIND_BY_FOLDER:
            expected = ", ".join(sorted(KIND_BY_FOLDER))
            errors.append(
                ContentError(
                    shown,
                    0,
                    0,
                    "",
                    f"unexpected {'folder' if path.is_dir() else 'file'} in content/ (expected site.yml, home.yml and the folders {expected})",
                )
            )
            continue
        cls = KIND_BY_FOLDER[path.name]
        files += [
            (
                cls,
                folder,
                name,
                shown,
                raw,
                None if known is None else entry_key(cls, shown, options, allow_missing, known),
            )
            for folder, name, shown, raw, known in _entry_files(path, shown, read, digests)
        ]
    return files, errors


def without_bytes(files: list[EntryFile]) -> list[EntryFile]:
    """Return a listing's entry files without their bytes, to keep in memory for `listed_again`."""
    return [file if file[4] is None else (*file[:4], None, file[5]) for file in files]


def places_of(files: list[EntryFile]) -> dict[str, int]:
    """Return each entry file's place in a listing, by its path."""
    return {os.path.join(folder, name): place for place, (_, folder, name, _, _, _) in enumerate(files)}


def listed_again(
    files: list[EntryFile],
    places: Mapping[str, int],
    saved: Collection[str],
    languages: tuple[str, ...],
    *,
    allow_missing: bool,
    read: Mapping[str, bytes],
    digests: Mapping[str, str],
) -> list[EntryFile]:
    """Return the entry files of a listing kept `without_bytes` (at `places`) after saves to the existing files `saved`,
    with no file added or removed since: those files with the bytes and digests the build's stamp found
    (`read`, `digests`), the others as they were listed.

    Inside `serve`, where a watcher tells of every save: listing a large site's 10,000 files again (a
    folder listing and a key for each) was 0.045 s of every rebuild.
    """
    options = ",".join(languages)
    again = list(files)
    for path in saved:
        place = places.get(path)
        if place is None:
            continue  # not an entry file (home.yml, a template): not listed
        cls, folder, name, shown, _, _ = files[place]
        known = digests.get(path)
        key = None if known is None else entry_key(cls, shown, options, allow_missing, known)
        again[place] = (cls, folder, name, shown, read.get(path), key)
    return again


def read_entries(
    project: Project,
    languages: tuple[str, ...],
    *,
    allow_missing: bool,
    memo: Mapping[str, tuple[Entry | None, list[ContentError]]] | None = None,
    read: Mapping[str, bytes] | None = None,
    listed: tuple[list[EntryFile], list[ContentError]] | None = None,
) -> EntryFiles:
    """Read every entry under content/, in a stable order, reusing `memo`'s results for unchanged files
    and the bytes in `read` (by path) of files this build has read already (or the files `listed`).

    Returns the entries, the ids of entry files that could not be read (so that references to them
    are not reported a second time), all problems found, and each entry's digest.
    """
    files, listing_errors = listed or list_entry_files(project, languages, allow_missing=allow_missing, read=read)
    errors = list(listing_errors)
    memo = memo or {}
    results: list[tuple[Entry | None, list[ContentError]] | None] = []
    todo: list[tuple[int, type[Entry], Path, str, bytes | None]] = []
    for index, (cls, folder, name, shown, raw, key) in enumerate(files):
        results.append(memo.get(key) if key else None)
        if results[-1] is None:
            if raw is None and key is not None:
                # Known unchanged but not read (the memo lost it): read now, keyed by what is read.
                files[index] = with_bytes(files[index], languages, allow_missing=allow_missing)
                raw, key = files[index][4], files[index][5]
                results[-1] = memo.get(key) if key else None
                if results[-1] is not None:
                    continue
            todo.append((index, cls, folder / name, shown, raw))

    def read_one(item) -> tuple[Entry | None, list[ContentError]]:
        _, cls, file, shown, raw = item
        return read_entry(cls, file, shown, languages, allow_missing=allow_missing, raw=raw)

    # Parsing and validating are independent per file: spread over the cores on large sites.
    for item, result in zip(todo, map_in_order(read_one, todo, PARALLEL_FROM), strict=True):
        results[item[0]] = result

    entries: list[Entry] = []
    unreadable: set[str] = set()
    digests: dict[str, str] = {}
    fresh: dict[str, tuple[Entry | None, list[ContentError]]] = {}
    for (_, _, name, _, _, key), result in zip(files, results, strict=True):
        entry, file_errors = result
        errors.extend(file_errors)
        if key:
            # The memo's own record, not an equal copy: the cache rewrites only shards whose records
            # are new objects.
            fresh[key] = result
        if entry is not None:
            entries.append(entry)
            digests[entry.id] = key or ""
        else:
            unreadable.add(os.path.splitext(name)[0])
    return EntryFiles(entries, unreadable, errors, digests, fresh, len(todo))


def with_bytes(file: EntryFile, languages: tuple[str, ...], *, allow_missing: bool) -> EntryFile:
    """Return an entry file listed without its bytes with them read, and its key made from them."""
    cls, folder, name, shown, _, _ = file
    try:
        raw = (folder / name).read_bytes()
    except OSError:
        return (cls, folder, name, shown, None, None)
    key = entry_key(cls, shown, ",".join(languages), allow_missing, file_digest(raw))
    return (cls, folder, name, shown, raw, key)


def _entry_files(
    folder: Path, shown: str, read: Mapping[str, bytes] | None, digests: Mapping[str, str] | None
) -> list[tuple[Path, str, str, bytes | None, str | None]]:
    # Each file of a kind's folder: the folder, its name, the path errors show, its bytes (None if not
    # read) and the digest of its bytes (None if it is not a regular file, or cannot be read). Strings
    # and the folder listing's file types rather than a Path and two stats per file: a large site has
    # 10,000 of them.
    with os.scandir(folder) as listing:
        found = sorted((item.name, item) for item in listing if not ignored_name(item.name))
    files = []
    for name, item in found:
        raw, known = None, None
        if not item.is_symlink() and item.is_file():
            raw = read.get(item.path) if read else None
            known = digests.get(item.path) if digests and raw is None else None
            if raw is None and known is None:
                try:
                    with open(item.path, "rb") as handle:
                        raw = handle.read()
                except OSError:
                    raw = None
            if raw is not None:
                known = file_digest(raw)
        files.append((folder, name, f"{shown}/{name}", raw, known))
    return files


def entry_key(cls: type[Entry], shown: str, options: str, allow_missing: bool, known: str) -> str:
    """Return the key of an entry file: what its parsed entry depends on (its bytes' digest, kind, path
    and the options), joined rather than digested again (10,000 of them per build)."""
    return f"{known}:{cls.kind}:{int(allow_missing)}:{options}:{shown}"


def file_digest(data: bytes) -> str:
    """Return the digest of a file's bytes, as entry keys and the build's stamp use it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_home(project: Project, languages: tuple[str, ...], *, allow_missing: bool) -> tuple[Home | None, list]:
    """Read content/home.yml, the home page's story; a site without one shows its description."""
    path = project.content / HOME_FILE
    if not path.exists():
        return None, []
    return read_entry(Home, path, project.shown(path), languages, allow_missing=allow_missing)


def read_entry(
    cls: type[Entry],
    path: Path,
    shown: str,
    languages: tuple[str, ...],
    *,
    allow_missing: bool,
    raw: bytes | None = None,
) -> tuple[Entry | None, list[ContentError]]:
    """Read one entry file of kind `cls` (whose bytes may already have been read)."""
    if raw is None and (path.is_symlink() or not path.is_file()):
        return None, [ContentError(shown, 0, 0, "", "expected a regular file")]
    if path.suffix != ".yml":
        return None, [ContentError(shown, 0, 0, "", "entry files end in .yml")]
    if not ID_PATTERN.match(path.stem):
        return None, [
            ContentError(
                shown,
                0,
                0,
                "",
                "file name must be the entry's id: lowercase ASCII letters, digits and single '-', then .yml",
            )
        ]
    document, errors = read_yaml(path, shown) if raw is None else parse_bytes(raw, shown)
    if document is None:
        return None, errors
    if not isinstance(document.data, dict):
        return None, [ContentError(shown, 1, 1, "(top level)", "expected a map of fields")]
    errors = validate_document(cls.kind, document, shown)
    if errors:
        return None, errors
    untranslated, errors = _check_texts(document, (), languages, shown, allow_missing=allow_missing)
    dates, date_errors = _parse_dates(document, shown)
    if date_errors:
        return None, errors + date_errors
    # An entry that lacks only translations is still built, so that coverage can be reported.
    common = dict(
        id=path.stem, file=shown, untranslated=frozenset(untranslated), positions=Positions(document.positions)
    )
    return _BUILDERS[cls](document.data, dates, common), errors


_DATE_FIELDS = {"date", "start", "end"}


def _parse_dates(document: Document, shown: str) -> tuple[dict[tuple, PartialDate], list[ContentError]]:
    dates, errors = {}, []
    for path in document.positions:
        if path and path[-1] in _DATE_FIELDS and isinstance(_value_at(document.data, path), str):
            try:
                dates[path] = parse_date(_value_at(document.data, path))
            except ValueError as err:
                errors.append(ContentError(shown, *document.position(path), format_field(path), str(err)))
    return dates, errors


def _check_texts(
    document: Document, only: tuple, languages: tuple[str, ...], shown: str, *, allow_missing: bool
) -> tuple[set[str], list[ContentError]]:
    """Check that every translatable text has each language and no other."""
    untranslated: set[str] = set()
    errors = []
    for path, value in _texts(document.data, ()):
        if only and path[0] not in only:
            continue
        for lang in value:
            if lang not in languages:
                errors.append(
                    ContentError(
                        shown,
                        *document.position(path + (lang,), key=True),
                        format_field(path + (lang,)),
                        f"language '{lang}' is not one of the site's languages ({', '.join(languages)})",
                    )
                )
        for lang in languages:
            if lang not in value:
                untranslated.add(lang)
                if not allow_missing:
                    errors.append(
                        ContentError(
                            shown, *document.position(path), format_field(path + (lang,)), "missing translation"
                        )
                    )
    return untranslated, errors


def _texts(data, path):
    """Yield (path, map) for every translatable text: a map whose keys are all language codes."""
    if isinstance(data, dict):
        if data and all(
            isinstance(k, str) and re.fullmatch(r"[a-z]{2,3}", k) and isinstance(v, str) for k, v in data.items()
        ):
            yield path, data
            return
        for key, value in data.items():
            yield from _texts(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts(value, path + (index,))


def _value_at(data, path):
    for part in path:
        data = data[part]
    return data


def _citations(items) -> tuple[Citation, ...]:
    return tuple(_citation(item) for item in items or ())


def _citation(item) -> Citation:
    return Citation(item["source"], tuple(item.get("paragraphs", ())), item.get("quote"))


def _event(data, dates, common) -> Event:
    return Event(
        **common,
        date=dates[("date",)],
        status=data["status"],
        title=data["title"],
        summary=data["summary"],
        body=data.get("body"),
        people=tuple(data.get("people", ())),
        organizations=tuple(data.get("organizations", ())),
        agreements=tuple(data.get("agreements", ())),
        tags=tuple(data.get("tags", ())),
        order=data.get("order", 0),
        sources=_citations(data["sources"]),
    )


def _person(data, dates, common) -> Person:
    roles = tuple(
        Role(
            title=role["title"],
            organization=role.get("organization"),
            start=dates.get(("roles", index, "start")),
            end=dates.get(("roles", index, "end")),
            sources=_citations(role.get("sources")),
        )
        for index, role in enumerate(data.get("roles", ()))
    )
    return Person(
        **common,
        name=data["name"],
        short_name=data.get("short_name", data["name"]),
        sort_name=data.get("sort_name", data["name"]),
        country=data["country"],
        summary=data["summary"],
        name_note=data.get("name_note"),
        mentioned=data.get("mentioned", False),
        roles=roles,
        bio=data.get("bio"),
        sources=_citations(data["sources"]),
    )


def _agreement(data, dates, common) -> Agreement:
    return Agreement(
        **common,
        name=data["name"],
        short_name=data.get("short_name"),
        category=data["kind"],
        summary=data["summary"],
        date=dates.get(("date",)),
        parties=tuple(data.get("parties", ())),
        pillars=tuple(data.get("pillars", ())),
        replaces=tuple(data.get("replaces", ())),
        body=data.get("body"),
        sources=_citations(data["sources"]),
    )


def _term(data, dates, common) -> Term:
    return Term(
        **common,
        term=data["term"],
        definition=data["definition"],
        abbr=data.get("abbr"),
        refers_to=data.get("refers_to"),
        sources=_citations(data["sources"]),
    )


def _organization(data, dates, common) -> Organization:
    return Organization(
        **common,
        name=data["name"],
        summary=data["summary"],
        abbr=data.get("abbr"),
        country=data.get("country"),
        parent=data.get("parent"),
        body=data.get("body"),
        sources=_citations(data["sources"]),
    )


def _source(data, dates, common) -> Source:
    return Source(
        **common,
        title=data["title"],
        category=data["kind"],
        publisher=data.get("publisher"),
        author=data.get("author"),
        date=dates.get(("date",)),
        date_note=data.get("date_note"),
        language=data.get("language"),
        url=data.get("url"),
        text_file=data.get("file"),
        via=_citation(data["via"]) if "via" in data else None,
        note=data.get("note"),
    )


def _home(data, dates, common) -> Home:
    sections = tuple(
        HomeSection(heading=section["heading"], body=section["body"], sources=_citations(section["sources"]))
        for section in data["sections"]
    )
    return Home(**common, title=data["title"], lede=data["lede"], sections=sections)


_BUILDERS = {
    Home: _home,
    Event: _event,
    Person: _person,
    Agreement: _agreement,
    Term: _term,
    Organization: _organization,
    Source: _source,
}
