"""serve's first answer to a save: the pages of the entries just edited, written before the full rebuild.

On a large site the full rebuild takes seconds; the page an editor is looking at needs only the model
of the last build with the saved entries patched in. That page comes out byte-identical to what the
full rebuild writes (which follows at once and finds it already written); anything this path cannot
get exactly right (a new, deleted or renamed entry, a source, a settings or template file, an error)
is left to the full rebuild alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import jinja2

from .content import Project, read_entry
from .links import patch_model
from .model import KIND_BY_FOLDER, Entry, Source, Term
from .output import MARKER, write_file
from .pipeline import Snapshot
from .render import render_pages


def write_edited_pages(
    project: Project, last: Snapshot, env: jinja2.Environment, saved: Iterable[Path], *, allow_missing: bool
) -> list[str]:
    """Write the pages that show the entries saved in `saved`, from the last build's model with them
    patched in; return the files written ([] when the saves are not all clean edits of existing entries).
    """
    entries = _edited_entries(project, last, set(saved), allow_missing)
    if not entries or not (project.output / MARKER).is_file():
        return []
    model, errors = patch_model(last.model, entries)
    if model is None or errors:
        return []
    ids = {entry.id for entry in entries}
    shows_terms = any(isinstance(entry, Term) for entry in entries)
    pages = [
        replace(page, entry=model.entries[page.entry.id]) if page.entry is not None else page
        for page in last.pages
        if (page.entry is not None and page.entry.id in ids) or (shows_terms and page.key[0] == "glossary")
    ]
    rendered = render_pages(env, model, last.strings, last.urls, pages, {})
    if rendered.errors:
        return []
    written = []
    for name, data in sorted(rendered.outputs.items()):
        written += write_file(project.output, name, data).written
    return written


def _edited_entries(project: Project, last: Snapshot, saved: set[Path], allow_missing: bool) -> list[Entry]:
    # Every saved file must be an entry of the last build, read without problems, with the same
    # languages (a page's plan depends on them) and kind; otherwise none of them is taken.
    entries = []
    # A folder is reported when a file in it is added or removed, which is reported on its own.
    for path in sorted(path for path in saved if not path.is_dir()):
        old = last.model.entries.get(path.stem)
        shown = project.shown(path)
        if not path.exists() and (old is None or old.file != shown):
            continue  # an editor's temporary file, already renamed or deleted
        cls = KIND_BY_FOLDER.get(path.parent.name)
        if cls is None or cls is Source or path.parent != project.content / path.parent.name:
            return []
        if old is None or old.file != shown or type(old) is not cls:
            return []
        entry, errors = read_entry(cls, path, shown, last.model.site.languages, allow_missing=allow_missing)
        if entry is None or errors or entry.id != old.id or entry.untranslated != old.untranslated:
            return []
        entries.append(entry)
    return entries
