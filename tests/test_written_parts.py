"""The parts of the feeds, calendars, exports and sitemap are kept between builds without their bytes:
a build copies the parts whose reads did not change from the files the last build wrote (see parts.py).

Copying a part from a file is only right if the file is as that build wrote it; these tests change
the files, the order of their parts and the builds in between, and compare with a clean build.
"""

from __future__ import annotations

import os
import random
from array import array
from pathlib import Path

import pytest

from explainer import feeds, parts, pipeline
from explainer.cache import Cache
from explainer.output import MARKER, Spliced, Staged, stage_outputs, write_site
from explainer.pipeline import build
from tests.test_incremental import (
    assert_same_files,
    clean_build_of,
    copy_real_site,
    edit_entry_text,
    move_event_date,
)

EDITED = "confirmacion-johnson-embajador"


@pytest.fixture
def computed(monkeypatch):
    """The ids of the entries whose JSON export part was computed, one item per language."""
    ids = []
    real = feeds._export

    def counted(entry, *args):
        ids.append(entry.id)
        return real(entry, *args)

    monkeypatch.setattr(feeds, "_export", counted)
    return ids


def _build_in_new_process(project, **options):
    # A new Cache object reads what the last build saved, as a new process does.
    return build(project, search=False, cache=Cache.at(project.root), **options)


def test_an_edit_computes_only_its_parts_and_takes_the_others_from_the_files(tmp_path: Path, computed):
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    entries = len(set(computed))
    assert entries > 50
    # Kept without their bytes: the cache holds where each part lies and what it read.
    kept = Cache.at(project.root).part("feeds")["files"]
    assert sum(len(written.layout.names) for written in kept.values()) > 2 * entries
    described = sum((project.output / file).stat().st_size for file in kept)
    assert (project.root / ".cache/explainer/feeds.pickle").stat().st_size < described / 4

    computed.clear()
    edit_entry_text(project.root)
    _build_in_new_process(project)
    assert computed == [EDITED, EDITED]  # its export in each language, and no other entry's
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


def test_a_moved_event_is_found_by_name_and_the_other_parts_are_copied(tmp_path: Path, computed):
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    entries = len(set(computed))
    computed.clear()
    move_event_date(project.root)  # its Atom entry moves up the feed, its calendar entry appears
    _build_in_new_process(project)
    assert "iniciativa-merida-2008" in computed and len(computed) < entries / 4
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


@pytest.mark.parametrize("change", ["altered", "removed", "replaced"])
def test_a_file_changed_since_it_was_written_is_made_anew(tmp_path: Path, computed, change: str):
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    export = project.output / "en/data.json"
    written = export.read_bytes()
    if change == "altered":
        export.write_bytes(written[:-100])
    elif change == "removed":
        export.unlink()
    else:
        # The same size, but written again later: its parts may lie elsewhere.
        export.write_bytes(written.replace(b'"kind": "event"', b'"kind": "EVENT"'))
        status = export.stat()
        os.utime(export, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    computed.clear()
    edit_entry_text(project.root)
    _build_in_new_process(project)
    # Every English part is computed again; in Spanish only the edited entry's.
    assert computed.count(EDITED) == 2 and len(computed) == len(set(computed)) + 1 > 50
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


def test_parts_kept_by_a_build_that_wrote_nothing_are_not_taken_from_older_files(tmp_path: Path):
    # A build that does not write (the `check` command's) keeps the parts it computed, without
    # their bytes; the files on disk still hold the parts of the build before the edit.
    project = copy_real_site(tmp_path / "site")
    cache = Cache.at(project.root)
    build(project, search=False, cache=cache)
    edit_entry_text(project.root)
    build(project, search=False, cache=cache, write=False)
    build(project, search=False, cache=cache)
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


def test_a_site_removed_while_its_cache_stays_is_built_whole(tmp_path: Path, computed):
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    first = len(computed)
    expected = clean_build_of(project, tmp_path / "clean")
    computed.clear()
    for path in sorted(project.output.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    project.output.rmdir()
    _build_in_new_process(project)
    assert len(computed) == first
    assert_same_files(project.output, expected)


def test_feeds_made_by_a_process_of_their_own_are_read_back_by_the_next_build(tmp_path: Path, monkeypatch, computed):
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    monkeypatch.setattr(pipeline, "FEEDS_APART_FROM", 1)
    monkeypatch.setattr(pipeline, "PARTS_APART_FROM", 1)
    made_by = []
    real = pipeline.make_feeds

    def noted(*args):
        made_by.append(os.getpid())
        return real(*args)

    monkeypatch.setattr(pipeline, "make_feeds", noted)
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    assert made_by == []  # not in this process: in the one that made the feeds
    edit_entry_text(project.root)
    _build_in_new_process(project)
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))
    # Nothing to compute: every part taken from the files the process before wrote, by a process of
    # their own still (which writes them beside the site, for this one to move in)...
    monkeypatch.setattr(pipeline, "PARTS_APART_FROM", 10**6)
    base = project.root / "layouts/templates/base.html"
    base.write_text(base.read_text("utf-8") + "\n", "utf-8")
    computed.clear()
    _build_in_new_process(project)
    assert made_by == [] and computed == []
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean2"))
    # ... or here, by a build that does not save its cache (serve's) and so keeps where their parts lie.
    base.write_text(base.read_text("utf-8") + "\n", "utf-8")
    _build_in_new_process(project, save=False)
    assert made_by == [os.getpid()] and computed == []
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean3"))


@pytest.mark.parametrize("copied_by", ["the kernel", "hand"])
def test_a_spliced_file_is_its_kept_runs_and_new_bytes_in_order(tmp_path: Path, monkeypatch, copied_by: str):
    # A file remade from the one in place: kept runs copied by os.copy_file_range (or read and written
    # where the system has none), new bytes written between them.
    source = tmp_path / "feed.xml"
    source.write_bytes(b"<head>AAAA,BBBB,CCCC</tail>")
    status = source.stat()
    pieces = ((b"<HEAD>", 0, 6), (6, 5), (b"bb", 11, 4), (15, 5), (b"</end>\n", 20, 7))
    spliced = Spliced(source, status.st_size, status.st_mtime_ns, pieces)
    if copied_by == "hand":
        monkeypatch.delattr(os, "copy_file_range")
    expected = b"<HEAD>AAAA,bb,CCCC</end>\n"
    assert len(spliced) == len(expected) and bytes(spliced) == expected
    target = tmp_path / "next"
    with open(target, "wb") as handle:
        handle.write(b"")
        spliced.write_to(handle.fileno())
    assert target.read_bytes() == expected
    assert not spliced.same_as_source()
    unchanged = ((b"<head>", 0, 6), (6, 5), (b"BBBB", 11, 4), (15, 5), (b"</tail>", 20, 7))
    assert Spliced(source, status.st_size, status.st_mtime_ns, unchanged).same_as_source()
    # The file it is made from, changed since it was looked at: refused, never copied from.
    source.write_bytes(b"<head>XXXX,YYYY,ZZZZ</tail>")
    os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns + 1))
    with pytest.raises(OSError, match="changed while the site was built"):
        bytes(spliced)


def test_an_edit_writes_a_feed_only_where_its_bytes_change(tmp_path: Path):
    # A Spanish text's edit remakes the Spanish export by splicing; the English one, whose parts are
    # computed again the same, is left untouched (not rewritten with the same bytes).
    project = copy_real_site(tmp_path / "site")
    build(project, search=False, cache=Cache.at(project.root))
    english = project.output / "en/data.json"
    before = english.stat().st_mtime_ns
    edit_entry_text(project.root)
    report = build(project, search=False, cache=Cache.at(project.root)).report
    assert "es/data.json" in report.written and "en/data.json" not in report.written
    assert english.stat().st_mtime_ns == before
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


@pytest.mark.parametrize("made", ["while written", "staged apart", "staged here"])
def test_a_feed_changed_while_the_site_is_built_is_refused_then_made_whole(tmp_path: Path, monkeypatch, made: str):
    # A feed is remade from the file in place; another program changing that file after the build
    # looked at it must not give a feed made of runs of two different files. On a large site the
    # feeds are written beside the site by a process of their own (or this one, with one core) while
    # the pages are rendered: the file in place changed since is not replaced either.
    if made != "while written":
        monkeypatch.setattr(pipeline, "FEEDS_APART_FROM", 1)
        monkeypatch.setenv("EXPLAINER_WORKERS", "2" if made == "staged apart" else "1")
    project = copy_real_site(tmp_path / "site")
    build(project, search=False, cache=Cache.at(project.root))
    edit_entry_text(project.root)
    export = project.output / "es/data.json"
    real_write_site = pipeline.write_site

    def changed_first(*args, **kwargs):
        export.write_bytes(export.read_bytes().replace(b"{", b"{ ", 1))
        return real_write_site(*args, **kwargs)

    monkeypatch.setattr(pipeline, "write_site", changed_first)
    with pytest.raises(OSError, match="changed while the site was built"):
        build(project, search=False, cache=Cache.at(project.root))
    monkeypatch.setattr(pipeline, "write_site", real_write_site)
    beside = [path.name for path in project.output.parent.iterdir() if path.name.startswith(".site")]
    assert beside == [], "nothing is left beside the site"
    build(project, search=False, cache=Cache.at(project.root))
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


def test_staged_outputs_are_those_that_differ_moved_in_only_over_the_file_they_were_made_beside(tmp_path: Path):
    site, folder = tmp_path / "site", tmp_path / "staging"
    write_site({}, site)
    folder.mkdir()
    (site / "same.xml").write_bytes(b"<same/>")
    (site / "old.xml").write_bytes(b"<old/>")
    (site / "spliced.json").write_bytes(b'{"a": 1}')
    status = (site / "spliced.json").stat()
    unchanged = Spliced(site / "spliced.json", status.st_size, status.st_mtime_ns, ((0, 6), (b"1", 6, 1), (7, 1)))
    outputs = {"same.xml": b"<same/>", "old.xml": b"<new/>", "new/feed.xml": b"<feed/>", "spliced.json": unchanged}
    staged = stage_outputs(outputs, site, folder)
    # Those whose bytes are the same are left as they were given (compared again when written).
    assert staged["same.xml"] == b"<same/>" and staged["spliced.json"] is unchanged
    moved = {name: data for name, data in staged.items() if isinstance(data, Staged)}
    assert sorted(moved) == ["new/feed.xml", "old.xml"]
    for name, data in moved.items():
        assert Path(data.path).parent == folder and Path(data.path).read_bytes() == outputs[name]
        assert (data.size, data.mtime_ns) == (os.stat(data.path).st_size, os.stat(data.path).st_mtime_ns)
    assert moved["new/feed.xml"].was is None
    report = write_site(staged, site, previous=["same.xml", "old.xml", "spliced.json"])
    assert sorted(report.written) == ["new/feed.xml", "old.xml"] and report.unchanged == 2 and report.removed == ()
    assert (site / "old.xml").read_bytes() == b"<new/>" and (site / "new/feed.xml").read_bytes() == b"<feed/>"
    assert list(folder.iterdir()) == []
    # A file changed in its place after it was staged beside it is not replaced.
    again = stage_outputs({"old.xml": b"<newer/>"}, site, folder)["old.xml"]
    (site / "old.xml").write_bytes(b"<edited by hand/>")
    with pytest.raises(OSError, match="changed while the site was built"):
        write_site({"old.xml": again}, site, kept=["same.xml", "new/feed.xml", "spliced.json"])
    assert (site / "old.xml").read_bytes() == b"<edited by hand/>"


def test_a_staged_file_is_copied_in_whole_where_it_cannot_be_moved(tmp_path: Path, monkeypatch):
    # A staging folder on another file system than the site's (a site folder mounted apart): the file
    # is copied beside its place, then renamed over it, and leaves the staging folder.
    site, folder = tmp_path / "site", tmp_path / "staging"
    write_site({"feed.xml": b"<old/>"}, site)
    folder.mkdir()
    staged = stage_outputs({"feed.xml": b"<new feed/>"}, site, folder)["feed.xml"]
    real_replace = os.replace

    def across_file_systems(source, target):
        if str(source).startswith(str(folder)):
            raise OSError(18, "Invalid cross-device link")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", across_file_systems)
    report = write_site({"feed.xml": staged}, site, previous=["feed.xml"])
    assert report.written == ("feed.xml",) and (site / "feed.xml").read_bytes() == b"<new feed/>"
    assert list(folder.iterdir()) == [] and sorted(path.name for path in site.iterdir()) == [MARKER, "feed.xml"]


@pytest.mark.parametrize("changed", [0, 1, 5, parts.FEW_CHANGED, parts.FEW_CHANGED + 1, 500])
def test_the_parts_that_read_a_changed_input_are_found_however_few_or_many_changed(changed: int):
    chooser = random.Random(changed)
    reads = array("I", (chooser.randrange(1000) for _ in range(20_000)))
    numbers = set(chooser.sample(range(1000), changed))
    expected = [position for position, read in enumerate(reads) if read in numbers]
    assert sorted(parts._positions_of(reads, numbers)) == expected
    assert (expected != []) == (changed > 0)
