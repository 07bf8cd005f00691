"""A build knows which files changed by their size, times and inode, reading only those (see
pipeline._inputs_stamp); a file whose bytes changed must never be taken for unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from explainer import pipeline
from explainer.cache import Cache
from explainer.pipeline import build
from tests.test_incremental import add_entry, assert_same_files, clean_build_of, copy_real_site

EVENT = "content/events/confirmacion-johnson-embajador.yml"


@pytest.fixture
def reads(monkeypatch):
    """The files the build reads to know whether they changed."""
    read = []
    real = pipeline._read_or_nothing

    def noted(path):
        read.append(str(path))
        return real(path)

    monkeypatch.setattr(pipeline, "_read_or_nothing", noted)
    return read


def _build_in_new_process(project):
    return build(project, search=False, cache=Cache.at(project.root))


def test_only_the_files_changed_since_the_last_build_are_read(tmp_path: Path, monkeypatch, reads):
    monkeypatch.setattr(pipeline, "SETTLED_AFTER_NS", 0)
    project = copy_real_site(tmp_path / "site")
    _build_in_new_process(project)
    assert len(reads) > 100
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
    monkeypatch.setattr(pipeline, "SETTLED_AFTER_NS", 0)
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
        monkeypatch.setattr(pipeline, "SETTLED_AFTER_NS", 0)
    project = copy_real_site(tmp_path / "site")
    path = project.root / EVENT
    path.write_text(path.read_text("utf-8") + "\n", "utf-8")
    _build_in_new_process(project)
    known = Cache.at(project.root).part("files")
    assert (str(path) in known) == (settled == "at once")
