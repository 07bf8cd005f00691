"""The build cache's large tables are saved in shards: an edit rewrites few files, and a save cut short
never lets a record be read against a header that is not its own.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from explainer import cache as cache_module
from explainer import pipeline
from explainer.cache import HEADER, SHARDS, Cache
from explainer.errors import BuildFailed
from explainer.model import Event, Positions
from tests.conftest import tree_digest
from tests.test_incremental import clean_build_of, copy_real_site, replace_in


def shard_files(folder: Path, name: str) -> dict[str, int]:
    """Return each shard file of a sharded table with its inode-and-time stamp."""
    return {path.name: os.stat(path).st_mtime_ns for path in sorted((folder / name).glob("*.pickle"))}


def test_a_sharded_table_round_trips_with_its_header(tmp_path: Path):
    cache = Cache(tmp_path)
    table = cache.part("fragments")
    records = {("atom", f"event-{n}", "es"): f"record {n}" for n in range(500)}
    table.update(records)
    table[HEADER] = ("key", ["a read"], ["its digest"])
    cache.changed("fragments")
    cache.save()
    again = Cache(tmp_path).part("fragments")
    assert again == {**records, HEADER: ("key", ["a read"], ["its digest"])}
    # Records of one entry share a shard, so that an edit of the entry rewrites one file.
    assert 1 < len(shard_files(tmp_path, "fragments")) <= SHARDS


def _saved_fragments(folder: Path, languages: tuple[str, ...]) -> dict[str, bytes]:
    # Atom and ICS records of 300 events in a new cache's sharded table, saved; its shard files.
    cache = Cache(folder)
    table = cache.part("fragments")
    table.update(
        {
            (kind, f"event-{n}", lang): f"{kind} {n}"
            for n in range(300)
            for kind in ("atom", "ics")
            for lang in languages
        }
    )
    table[HEADER] = ("key", [], [])
    cache.changed("fragments")
    cache.save()
    return shard_files(folder, "fragments")


def test_changing_one_entrys_records_rewrites_one_shard(tmp_path: Path):
    before = _saved_fragments(tmp_path, ("es", "en"))

    cache = Cache(tmp_path)
    table = cache.part("fragments")
    for kind in ("atom", "ics"):
        for lang in ("es", "en"):
            table[(kind, "event-7", lang)] = "edited"
    cache.changed("fragments")
    cache.save()
    after = shard_files(tmp_path, "fragments")
    assert sorted(after) == sorted(before)
    assert len([name for name in after if after[name] != before[name]]) == 1
    assert Cache(tmp_path).part("fragments")[("ics", "event-7", "en")] == "edited"


def test_removing_one_entrys_records_then_adding_some_rewrites_only_their_shards(tmp_path: Path):
    before = _saved_fragments(tmp_path, ("es",))

    cache = Cache(tmp_path)
    table = cache.part("fragments")
    del table[("atom", "event-7", "es")], table[("ics", "event-7", "es")]
    cache.changed("fragments")
    cache.save()
    removed = shard_files(tmp_path, "fragments")
    assert len([name for name in removed if removed[name] != before[name]]) == 1
    # The same process saves again: a new entry's records, and nothing else, are written.
    table[("atom", "event-new", "es")] = "new"
    cache.changed("fragments")
    cache.save()
    added = shard_files(tmp_path, "fragments")
    assert len([name for name in added if added.get(name) != removed.get(name)]) == 1
    again = Cache(tmp_path).part("fragments")
    assert ("atom", "event-7", "es") not in again and again[("atom", "event-new", "es")] == "new"
    assert len(again) == 600 - 2 + 1 + 1  # the header too


def test_a_shard_written_without_its_index_is_left_out(tmp_path: Path):
    cache = Cache(tmp_path)
    table = cache.part("fragments")
    table.update({("atom", f"event-{n}", "es"): "old" for n in range(200)})
    table[HEADER] = "old header"
    cache.changed("fragments")
    cache.save()
    index = (tmp_path / "fragments.pickle").read_bytes()

    # The next save writes its shards, then is cut short before the index names them.
    cache = Cache(tmp_path)
    table = cache.part("fragments")
    table[("atom", "event-3", "es")] = "new"
    table[HEADER] = "new header"
    cache.changed("fragments")
    cache.save()
    (tmp_path / "fragments.pickle").write_bytes(index)

    loaded = Cache(tmp_path).part("fragments")
    assert loaded[HEADER] == "old header"
    # The rewritten shard is not read against the old header; every other record still is.
    assert ("atom", "event-3", "es") not in loaded
    assert set(loaded.values()) == {"old", "old header"}
    assert 150 < len(loaded) < 201


def test_an_edit_in_a_new_process_after_an_interrupted_cache_save_equals_a_clean_build(tmp_path: Path, monkeypatch):
    project = copy_real_site(tmp_path / "site")
    pipeline.build(project, search=False)
    event = next(iter(sorted((project.content / "events").glob("*.yml"))))
    replace_in(event, "title:\n  es: ", "title:\n  es: Editado, ")
    # The save of the fragments' index fails after their shards are written.
    real_write = Cache._write

    def failing_write(self, path, stored):
        if path.name == "fragments.pickle":
            raise OSError("disk full")
        real_write(self, path, stored)

    monkeypatch.setattr(Cache, "_write", failing_write)
    pipeline.build(project, search=False)
    monkeypatch.setattr(Cache, "_write", real_write)
    # Undone: the old index's digests match again, and records computed for the edit must not be used.
    replace_in(event, "Editado, ", "")
    pipeline.build(project, search=False, cache=Cache.at(project.root))
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


def test_an_entry_edit_in_a_new_process_rewrites_few_shards_of_each_table(tmp_path: Path):
    project = copy_real_site(tmp_path / "site")
    pipeline.build(project, search=False, cache=Cache.at(project.root))
    folder = Cache.at(project.root).folder
    before = {name: shard_files(folder, name) for name in ("entries", "fragments")}
    assert all(len(files) > 10 for files in before.values())
    event = next(iter(sorted((project.content / "events").glob("*.yml"))))
    replace_in(event, "title:\n  es: ", "title:\n  es: Editado, ")
    pipeline.build(project, search=False, cache=Cache.at(project.root))
    for name, files in before.items():
        after = shard_files(folder, name)
        rewritten = [shard for shard in after if after[shard] != files.get(shard)]
        # The edited file's old record leaves a shard and its new one joins one (maybe the same).
        assert 1 <= len(rewritten) <= 2, f"{name}: {len(rewritten)} of {len(after)} shards rewritten"


def test_a_save_leaving_some_tables_keeps_them_and_the_mark_of_an_unrecorded_write(tmp_path: Path):
    output = tmp_path / "site"
    cache = Cache(tmp_path / "cache")
    cache.begin_writing(output)
    cache.part("pages")["a"] = 1
    cache.part("last")["a"] = 2
    cache.changed("pages")
    cache.changed("last")
    cache.save(leaving=("last",))
    # The record of what the output holds is not saved yet: another process must not trust it.
    assert Cache(tmp_path / "cache").written_since_saved(output)
    assert Cache(tmp_path / "cache").part("pages") == {"a": 1} and Cache(tmp_path / "cache").part("last") == {}
    cache.save()
    assert not Cache(tmp_path / "cache").written_since_saved(output)
    assert Cache(tmp_path / "cache").part("last") == {"a": 2}


def test_a_save_of_some_tables_saves_only_those(tmp_path: Path):
    cache = Cache(tmp_path)
    for name in ("parts", "pages"):
        cache.part(name)[("x", name)] = name
        cache.changed(name)
    cache.save(only=("parts",))
    assert Cache(tmp_path).part("parts") == {("x", "parts"): "parts"} and Cache(tmp_path).part("pages") == {}
    cache.save()
    assert Cache(tmp_path).part("pages") == {("x", "pages"): "pages"}


def test_errors_in_entries_read_from_the_cache_name_the_same_lines_as_without_it(tmp_path: Path):
    # Entries read from the cache carry where each field stands packed (model.Positions): an error in
    # an entry that did not change, found because another was removed, must point where a build
    # without the cache points.
    project = copy_real_site(tmp_path / "site")
    pipeline.build(project, search=False, cache=Cache.at(project.root))
    (project.content / "people/ronald-johnson.yml").unlink()

    def errors_of(cache: Cache) -> list[str]:
        with pytest.raises(BuildFailed) as failed:
            pipeline.build(project, search=False, cache=cache)
        return [str(error) for error in failed.value.errors]

    cached, uncached = errors_of(Cache.at(project.root)), errors_of(Cache(None))
    assert cached == uncached
    assert any(":" in error and "ronald-johnson" in error for error in cached)


def test_positions_pickle_as_one_string_and_unpack_to_the_same_places():
    table = {(): (1, 1), ("title",): (3, 1), ("title", "es"): (4, 7), ("roles", 0, "start"): (12, 12)}
    positions = Positions(table)
    assert dict(positions) == table and len(positions) == 4
    again = pickle.loads(pickle.dumps(positions))
    assert again._table is None  # nothing unpacked until asked for
    assert dict(again) == table and again[("title", "es")] == (4, 7)
    event = Event(id="e", file="content/events/e.yml", positions=positions, date=None, status="x", title={}, summary={})
    assert pickle.loads(pickle.dumps(event)).position(("title", "es", "more")) == (4, 7)


def test_the_code_version_reads_each_librarys_version_as_importlib_metadata_does(tmp_path: Path, monkeypatch):
    from importlib import metadata

    found = cache_module._installed_versions()
    for name in cache_module._LIBRARIES:
        assert found[cache_module._normalized(name)] == metadata.version(name)
    # Another version of a library, earlier on the import path, is another code version.
    before = cache_module.code_version()
    (tmp_path / "Jinja2-99.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cache_module._installed_versions()["jinja2"] == "99.0"
    assert cache_module.code_version() != before
