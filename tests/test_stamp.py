"""A build knows which files changed by their size, times and inode, reading only those (see
stamp.inputs_stamp); a file whose bytes changed must never be taken for unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from explainer import pipeline, stamp
from explainer.cache import Cache
from explainer.pipeline import build
from tests.test_incremental import EDITS, add_entry, assert_same_files, clean_build_of, copy_real_site, inputs_now

EVENT = "content/events/confirmacion-johnson-embajador.yml"


@pytest.fixture
def reads(monkeypatch):
    """The files the build reads to know whether they changed."""
    read = []
    real = stamp.read_or_nothing

    def noted(path):
        read.append(str(path))
        return real(path)

    monkeypatch.setattr(stamp, "read_or_nothing", noted)
    return read


def _build_in_new_process(project):
    return build(project, search=False, cache=Cache.at(project.root))


def test_only_the_files_changed_since_the_last_build_are_read(tmp_path: Path, monkeypatch, reads):
    monkeypatch.setattr(stamp, "SETTLED_AFTER_NS", 0)
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    every = [item for folder in ("content", "layouts") for item in (project.root / folder).rglob("*") if item.is_file()]
    assert len(every) > 80 and {str(item) for item in every} <= set(reads)
    reads.clear()
    again = _build_in_new_process(project)
    assert again.rendered == 0 and [name for name in reads if "/content/" in name] == []
    path = project.root / EVENT
    path.write_text(path.read_text("utf-8").replace("Coronel retirado", "Coronel en retiro"), "utf-8")
    _build_in_new_process(project)
    assert [name for name in reads if "/content/" in name] == [str(path)]
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))
    # A removed file's record goes with it.
    add_entry(project.root)
    added = project.root / "content/events/confirmacion-johnson-copia.yml"
    _build_in_new_process(project)
    assert str(added) in Cache.at(project.root).part("files")
    added.unlink()
    _build_in_new_process(project)
    known = Cache.at(project.root).part("files")
    inputs = [
        item for folder in ("content", "layouts") for item in (project.root / folder).rglob("*") if item.is_file()
    ]
    assert str(added) not in known and sorted(known) == sorted(str(item) for item in inputs)


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_a_file_rewritten_with_its_size_and_time_kept_is_read_again(tmp_path: Path, monkeypatch, how: str):
    monkeypatch.setattr(stamp, "SETTLED_AFTER_NS", 0)
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    path = project.root / EVENT
    before = path.stat()
    text = path.read_text("utf-8").replace("Coronel retirado", "Coronel RETIRADO")  # the same size
    if how == "in place":
        path.write_text(text, "utf-8")
    else:
        (path.parent / "new.tmp").write_text(text, "utf-8")
        os.replace(path.parent / "new.tmp", path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    again = _build_in_new_process(project)
    assert again.rendered > 0
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


@pytest.mark.parametrize("settled", ["after 2 s", "at once"])
def test_a_file_changed_just_before_a_build_is_read_again_by_the_next(tmp_path: Path, monkeypatch, settled: str):
    # Within the file system clock's tick of its change, a second change could keep its times.
    if settled == "at once":
        monkeypatch.setattr(stamp, "SETTLED_AFTER_NS", 0)
    project = copy_real_site(tmp_path / "site")
    path = project.root / EVENT
    path.write_text(path.read_text("utf-8") + "\n", "utf-8")
    _build_in_new_process(project)
    known = Cache.at(project.root).part("files")
    assert (str(path) in known) == (settled == "at once")


def _serve_build(project, serving: Cache, saved: list[str] | None):
    # As serve rebuilds: one cache in memory, saved after each build, and the watcher's saved paths.
    result = build(project, search=False, cache=serving, save=False, sole_writer=True, saved=saved)
    serving.save()
    return result


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_a_build_told_which_files_were_saved_equals_a_clean_build_and_stamps_as_one_that_looked(
    tmp_path: Path, kind: str
):
    project = copy_real_site(tmp_path / "site")
    serving = Cache.at(project.root)
    _serve_build(project, serving, None)
    before = inputs_now(project.root)
    EDITS[kind](project.root)
    after = inputs_now(project.root)
    # What a watcher reports: each file changed, added or removed.
    saved = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert saved
    again = _serve_build(project, serving, saved)
    assert again.report.written
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))
    # A new process, which looks at every file, finds the stamp the told build left: nothing to do.
    assert _build_in_new_process(project).report.written == ()


def test_a_build_told_which_files_were_saved_looks_at_those_only(tmp_path: Path, monkeypatch, reads):
    monkeypatch.setattr(stamp, "SETTLED_AFTER_NS", 0)
    project = copy_real_site(tmp_path / "site")
    serving = Cache.at(project.root)
    _serve_build(project, serving, None)
    looked: list[str] = []
    real_digest = stamp._digest_of_file
    monkeypatch.setattr(stamp, "_digest_of_file", lambda path, *a: looked.append(path) or real_digest(path, *a))
    # The entry files are listed again from the last listing, not from the folders.
    listings: list[Path] = []
    real_listing = pipeline.list_entry_files
    monkeypatch.setattr(
        pipeline,
        "list_entry_files",
        lambda project, *a, **k: listings.append(project.root) or real_listing(project, *a, **k),
    )
    path = project.root / EVENT
    path.write_text(path.read_text("utf-8").replace("Coronel retirado", "Coronel en retiro"), "utf-8")
    reads.clear()
    assert _serve_build(project, serving, [str(path)]).rendered > 0
    assert looked == [str(path)] and [name for name in reads if "/content/" in name] == [str(path)]
    assert listings == []
    assert "Coronel en retiro" in (
        project.output / "es/cronologia/confirmacion-johnson-embajador/index.html"
    ).read_text("utf-8")
    # A file the watcher did not report is taken for unchanged (serve trusts it)...
    other = project.root / "content/events/llamada-trump-sheinbaum.yml"
    other.write_text(other.read_text("utf-8") + "\n# unreported\n", "utf-8")
    assert _serve_build(project, serving, []).report.written == ()
    # ...but a file added, removed or a folder reported makes the build look at every file again.
    looked.clear()
    add_entry(project.root)
    added = project.root / "content/events/confirmacion-johnson-copia.yml"
    assert _serve_build(project, serving, [str(added)]).rendered > 0
    assert str(other) in looked and (project.output / "es/cronologia/confirmacion-johnson-copia").is_dir()
    assert listings == [project.root]
    looked.clear()
    added.unlink()
    _serve_build(project, serving, [str(added)])
    assert str(other) in looked and not (project.output / "es/cronologia/confirmacion-johnson-copia").exists()
    looked.clear()
    _serve_build(project, serving, [str(project.root / "content/events")])
    assert str(other) in looked
    # A temporary file made and removed since is no reason to look.
    looked.clear()
    _serve_build(project, serving, [str(project.root / "content/events/4913")])
    assert looked == []
