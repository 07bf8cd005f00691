"""The whole build: golden output, incremental writes, determinism, sub-paths and translation gaps."""

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import jinja2
import markupsafe
import pytest
from markupsafe import Markup

from explainer import pipeline, render, search, templates
from explainer.cache import Cache
from explainer.pipeline import build
from explainer.search import search_digest
from tests.conftest import REPO, errors_of, tree_digest, write
from tests.golden import GOLDEN, build_fixture_outputs
from tests.test_incremental import add_entry, assert_same_files, clean_build_of, copy_real_site, edit_entry_text


def test_output_matches_golden():
    outputs = build_fixture_outputs()
    golden = {path.relative_to(GOLDEN).as_posix(): path.read_bytes() for path in GOLDEN.rglob("*") if path.is_file()}
    assert sorted(outputs) == sorted(golden), "run `make golden` after an intended change"
    for name, data in outputs.items():
        assert data == golden[name], f"{name} differs from tests/golden (run `make golden` after an intended change)"


def test_second_build_writes_nothing(project):
    first = build(project).report
    assert len(first.written) > 20
    second = build(project).report
    assert second.written == () and second.removed == ()
    assert second.unchanged == len(first.written)


def test_the_caller_is_told_once_the_files_are_in_place_and_before_the_build_records_them(project):
    # serve tells the browsers then: the page they reload must be the new one, and the record (the
    # bookkeeping that follows) must not delay them.
    seen: list[tuple[object, ...]] = []

    def written(site, report):
        page = project.output / "en/timeline/talks/index.html"
        recorded = Cache.at(project.root).part("last").get(str(project.output))
        seen.append((site.base_url, sorted(report.written), page.read_text("utf-8"), recorded))

    # A first build writes a new tree and renames it into place: the files are there when told.
    first = build(project, index_now=False, on_written=written)
    ((base_url, names, page, recorded),) = seen
    assert names == sorted(first.report.written) and "en/timeline/talks/index.html" in names
    assert "<h1>Talks</h1>" in page and base_url == first.site.base_url
    assert recorded is None, "told before the build recorded what it wrote"
    path = project.root / "content/events/talks.yml"
    path.write_text(path.read_text("utf-8").replace("en: Talks}", "en: Talks told}"), "utf-8")
    seen.clear()
    second = build(project, index_now=False, on_written=written)
    ((_, names, page, recorded),) = seen
    assert "en/timeline/talks/index.html" in names and names == sorted(second.report.written)
    assert "<h1>Talks told</h1>" in page
    assert recorded is not None and recorded.stamp != Cache.at(project.root).part("last")[str(project.output)].stamp
    # Nothing to write: nothing to tell.
    seen.clear()
    assert build(project, index_now=False, on_written=written).report.written == ()
    assert seen == []


def test_edit_rewrites_only_affected_files_and_removes_stale(project):
    build(project)
    path = project.root / "content/events/talks.yml"
    path.write_text(path.read_text("utf-8").replace("Planned talks.", "Talks that were planned."))
    report = build(project).report
    assert "en/timeline/talks/index.html" in report.written
    assert "es/cronologia/talks/index.html" not in report.written
    path.unlink()
    report = build(project).report
    pages = [path for path in report.removed if not path.startswith("pagefind/")]
    assert pages == ["en/timeline/talks/index.html", "es/cronologia/talks/index.html"]
    # The search index no longer has the deleted page's fragments.
    assert any(path.startswith("pagefind/0/fragment/") for path in report.removed)
    assert not (project.output / "en/timeline/talks").exists()


def test_two_builds_are_byte_identical(project, tmp_path):
    build(project)
    first = tree_digest(project.output)
    env = {"PYTHONHASHSEED": "123", "TZ": "Asia/Tokyo", "LC_ALL": "C", "PATH": "/usr/bin:/bin"}
    other = tmp_path / "other"
    script = (
        "import sys; from pathlib import Path; from dataclasses import replace; "
        "from tests.conftest import fixture_project; from explainer.pipeline import build; "
        "build(replace(fixture_project(Path(sys.argv[1])), output=Path(sys.argv[2])))"
    )
    subprocess.run([sys.executable, "-c", script, str(project.root), str(other)], cwd=REPO, env=env, check=True)
    assert tree_digest(other) == first


def test_every_entry_has_a_page_in_each_language_with_hreflang_pairs(project):
    outputs = build(project).outputs
    pairs = {
        "es/cronologia/meeting/index.html": "en/timeline/meeting/index.html",
        "es/personas/ana-nunez/index.html": "en/people/ana-nunez/index.html",
        "es/glosario/new-pact/index.html": "en/glossary/new-pact/index.html",
        "es/organizaciones/ministry/index.html": "en/organizations/ministry/index.html",
    }
    for es, en in pairs.items():
        for name, lang in ((es, "es"), (en, "en")):
            html = outputs[name].decode()
            assert f'<html lang="{lang}">' in html
            assert f'hreflang="es" href="https://example.org/{es[:-10]}"' in html
            assert f'hreflang="en" href="https://example.org/{en[:-10]}"' in html
            assert f'hreflang="x-default" href="https://example.org/{es[:-10]}"' in html
            assert f'<link rel="canonical" href="https://example.org/{name[:-10]}">' in html


def test_dates_are_cldr_formatted_at_their_precision(project):
    outputs = build(project).outputs
    es = outputs["es/cronologia/index.html"].decode()
    en = outputs["en/timeline/index.html"].decode()
    assert '<time datetime="2024-03-02">2 de marzo de 2024</time>' in es
    assert '<time datetime="2024-06">junio de 2024</time>' in es
    assert '<time datetime="2024-03-02">March 2, 2024</time>' in en
    assert '<time datetime="2024-06">June 2024</time>' in en
    glossary = outputs["en/glossary/index.html"].decode()
    assert '<time datetime="2008">2008</time>' in glossary


def test_references_resolve_in_the_readers_language(project):
    outputs = build(project).outputs
    assert '<a href="/es/personas/bo-lee/">Bo Lee</a>' in outputs["es/personas/ana-nunez/index.html"].decode()
    assert '<a href="/en/people/bo-lee/">Lee</a>' in outputs["en/people/ana-nunez/index.html"].decode()
    assert '<a href="/en/glossary/#border">Border</a>' in outputs["en/timeline/meeting/index.html"].decode()


def test_back_references_on_pages(project):
    outputs = build(project).outputs
    person = outputs["en/people/ana-nunez/index.html"].decode()
    assert person.index('href="/en/timeline/meeting/"') < person.index('href="/en/timeline/talks/"')
    pact = outputs["en/glossary/new-pact/index.html"].decode()
    assert 'Replaced</dt> <dd><a href="/en/glossary/old-pact/">Old pact</a>' in pact
    old = outputs["en/glossary/old-pact/index.html"].decode()
    assert 'Replaced by</dt> <dd><a href="/en/glossary/new-pact/">New</a>' in old
    ministry = outputs["en/organizations/ministry/index.html"].decode()
    assert '<a href="/en/people/ana-nunez/">Ana Núñez</a>' in ministry


def test_base_url_with_a_sub_path_prefixes_every_link(project):
    outputs = build(project, base_url="/sub/path/").outputs
    for name, data in outputs.items():
        if not name.endswith(".html"):
            continue
        for link in re.findall(r'(?:href|src)="([^"]*)"', data.decode()):
            if link.startswith("#"):
                continue
            assert link.startswith("/sub/path/"), f"{name}: {link}"
            target = link.removeprefix("/sub/path/").split("#")[0]
            assert (target + "index.html" if target.endswith("/") or not target else target) in outputs, (
                f"{name}: {link}"
            )


def test_allow_missing_renders_a_notice_without_hreflang(project):
    path = project.root / "content/events/talks.yml"
    path.write_text(
        path.read_text("utf-8").replace("title: {es: Conversaciones, en: Talks}", "title: {es: Conversaciones}")
    )
    assert errors_of(project) == ["content/events/talks.yml:3:8: title.en: missing translation"]
    outputs = build(project, allow_missing=True).outputs
    en = outputs["en/timeline/talks/index.html"].decode()
    assert "not yet translated into English" in en
    assert '<link rel="canonical" href="https://example.org/es/cronologia/talks/">' in en
    assert 'hreflang="en" href' not in en.split("</head>")[0]
    assert '<h1><span lang="es">Conversaciones</span></h1>' in en
    es = outputs["es/cronologia/talks/index.html"].decode().split("</head>")[0]
    assert 'hreflang="en"' not in es
    assert 'hreflang="es"' in es


def test_the_export_marks_an_entry_not_translated_into_its_language(project):
    # A program reading the English export must be able to tell a Spanish title from an English one.
    path = project.root / "content/events/talks.yml"
    path.write_text(
        path.read_text("utf-8").replace("title: {es: Conversaciones, en: Talks}", "title: {es: Conversaciones}")
    )
    outputs = build(project, allow_missing=True, search=False).outputs
    records = {lang: {r["id"]: r for r in json.loads(outputs[f"{lang}/data.json"])["entries"]} for lang in ("en", "es")}
    assert records["en"]["talks"]["untranslated"] is True
    assert records["en"]["talks"]["title"] == "Conversaciones"
    assert "untranslated" not in records["es"]["talks"]
    assert [r["id"] for r in records["en"].values() if "untranslated" in r] == ["talks"]


def test_root_offers_both_languages_without_javascript(project):
    outputs = build(project).outputs
    root = outputs["index.html"].decode()
    assert '<a class="button" href="/es/" hreflang="es">Español</a>' in root
    assert '<a class="button" href="/en/" hreflang="en">English</a>' in root
    assert "<script" not in root and 'http-equiv="refresh"' not in root


def test_output_refuses_a_foreign_folder(project):
    from dataclasses import replace

    import pytest

    from explainer.output import OutputRefused

    write(project, "elsewhere/keep.txt", "precious")
    with pytest.raises(OutputRefused):
        build(replace(project, output=project.root / "elsewhere"))
    assert (project.root / "elsewhere/keep.txt").read_text() == "precious"


def test_static_assets_leave_out_what_editors_leave_beside_them(project, tmp_path):
    project = _with_layouts(project, tmp_path)
    static = project.layouts / "static"
    (static / "style.css~").write_text("backup", "utf-8")
    (static / "#style.css#").write_text("auto-saved", "utf-8")
    (static / ".style.css.swp").write_text("swap", "utf-8")
    (static / ".drafts").mkdir()
    (static / ".drafts" / "draft.css").write_text("draft", "utf-8")
    (static / "extra.css").write_text("p{}", "utf-8")
    build(project)
    assets = {path.name for path in (project.output / "assets").rglob("*") if path.is_file()}
    assert "extra.css" in assets and "style.css" in assets
    assert assets & {"style.css~", "#style.css#", ".style.css.swp", "draft.css"} == set(), assets


def _with_layouts(project, tmp_path):
    from dataclasses import replace

    layouts = tmp_path / "layouts"
    shutil.copytree(project.layouts, layouts)
    return replace(project, layouts=layouts)


def test_a_first_build_compiles_the_templates_in_a_process_per_core_and_later_builds_do_not(
    project, tmp_path, monkeypatch
):
    from explainer import parallel

    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(pipeline, "workers", lambda: 2)
    marks = tmp_path / "compiled-by"
    marks.mkdir()
    compile_templates = pipeline.compile_templates

    def marked(templates, compiled, share, shares):
        (marks / f"{os.getpid()}-{share}-{shares}").touch()
        compile_templates(templates, compiled, share, shares)

    monkeypatch.setattr(pipeline, "compile_templates", marked)
    build(project)
    made = sorted(mark.name.split("-") for mark in marks.iterdir())
    assert [(share, shares) for _, share, shares in made] == [("0", "2"), ("1", "2")]
    assert len({pid for pid, _, _ in made} | {str(os.getpid())}) == 3  # two processes, neither this one
    compiled = Cache.at(project.root).folder_for("templates")
    templates = list((project.layouts / "templates").iterdir())
    assert len(list(compiled.iterdir())) == len(templates)
    meeting = project.root / "content/events/meeting.yml"
    meeting.write_text(meeting.read_text("utf-8").replace("bo-lee]] met.", "bo-lee]] met at last."), "utf-8")
    assert build(project).rendered > 0
    assert len(list(marks.iterdir())) == 2  # compiled already


COMPILED_AHEAD = """
import os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from explainer import templates
compile_templates = templates.compile_templates

def marked(folder, compiled, share=0, shares=1):
    imported = "explainer.pipeline" in sys.modules or "jinja2" in sys.modules  # before the fork
    (Path(sys.argv[2]) / f"{os.getpid()}-{share}-{shares}-{imported}").touch()
    compile_templates(folder, compiled, share, shares)

templates.compile_templates = marked  # and so in the build's modules, imported after
import build
print(os.getpid(), build.main(["--root", sys.argv[3], "build", "--no-search"]))
"""


def test_build_py_compiles_a_first_builds_templates_in_one_process_before_it_imports_the_build(project, tmp_path):
    shutil.copytree(project.layouts, project.root / "layouts")  # build.py's project has them in its folder
    marks = tmp_path / "compiled-by"
    marks.mkdir()
    script = tmp_path / "ahead.py"
    script.write_text(COMPILED_AHEAD, "utf-8")

    def run() -> list[list[str]]:
        done = subprocess.run(
            [sys.executable, str(script), str(REPO), str(marks), str(project.root)],
            capture_output=True,
            text=True,
            env={**os.environ, "EXPLAINER_WORKERS": "2"},
            check=True,
        )
        pid, status = done.stdout.splitlines()[-1].split()
        assert status == "0", done.stderr
        return sorted(mark.name.split("-") for mark in marks.iterdir()), pid

    made, pid = run()
    # One process, forked before the build's modules (and Jinja) were imported, compiled them all;
    # the build started no other.
    assert [mark[1:] for mark in made] == [["0", "1", "False"]] and made[0][0] != pid
    compiled = Cache.at(project.root).folder_for("templates")
    assert len(list(compiled.iterdir())) == len(templates.template_names(project.root / "layouts" / "templates"))
    shutil.rmtree(project.output)
    assert run()[0] == made  # compiled already: nothing compiled again


def test_templates_compiled_apart_are_those_the_rendering_environment_compiles(tmp_path):
    folder_of_templates = REPO / "layouts" / "templates"
    (tmp_path / "apart").mkdir()
    (tmp_path / "rendering").mkdir()
    templates.compile_templates(folder_of_templates, tmp_path / "apart")
    env = render.make_environment(folder_of_templates, tmp_path / "rendering")
    for name in templates.template_names(folder_of_templates):
        env.get_template(name)
    apart = {path.name: path.read_bytes() for path in (tmp_path / "apart").iterdir()}
    assert apart and apart == {path.name: path.read_bytes() for path in (tmp_path / "rendering").iterdir()}


def test_the_shares_of_templates_compiled_apart_are_all_of_them_once_each_of_about_equal_size(tmp_path):
    folder_of_templates = REPO / "layouts" / "templates"
    names = templates.template_names(folder_of_templates)
    shares = []
    for share in range(3):
        folder = tmp_path / str(share)
        folder.mkdir()
        templates.compile_templates(folder_of_templates, folder, share, 3)
        shares.append(len(list(folder.iterdir())))
    assert sum(shares) == len(names) and max(shares) - min(shares) <= 1
    sizes = sorted(((folder_of_templates / name).stat().st_size for name in names), reverse=True)
    assert max(sum(sizes[share::3]) for share in range(3)) - min(sum(sizes[share::3]) for share in range(3)) <= sizes[0]
    everything = tmp_path / "all"
    everything.mkdir()
    templates.compile_templates(folder_of_templates, everything)
    assert sorted(path.name for path in everything.iterdir()) == sorted(
        path.name for share in range(3) for path in (tmp_path / str(share)).iterdir()
    )


def test_a_site_of_a_hundred_pages_or_more_is_rendered_by_a_process_per_core_in_eight_chunks(tmp_path, monkeypatch):
    # The real site's 130 pages took 0.4-0.6 s in one process (a first build), against about 20 ms
    # to start the workers.
    from explainer import parallel

    monkeypatch.setattr(parallel, "workers", lambda: 2)
    project = copy_real_site(tmp_path)
    marks = tmp_path / "rendered-by"
    marks.mkdir()
    rendering = render._render

    def marked(env, model, strings, urls, pages, *rest):
        (marks / f"{os.getpid()} {len(pages)} {pages[0].file.replace('/', '_')}").touch()
        return rendering(env, model, strings, urls, pages, *rest)

    monkeypatch.setattr(render, "_render", marked)
    result = build(project, search=False)
    made = [mark.name.split(" ", 2) for mark in marks.iterdir()]
    assert result.rendered >= render.PARALLEL_FROM
    assert str(os.getpid()) not in {pid for pid, _, _ in made}
    assert sum(int(count) for _, count, _ in made) == result.rendered
    assert len(made) == 8 and max(int(count) for _, count, _ in made) == -(-result.rendered // 8)


@pytest.mark.parametrize(("shard_pages", "bundles"), [(search.SHARD_PAGES, 1), (20, 8)])
def test_a_first_build_indexes_its_searchable_pages_while_the_workers_render_the_others(
    tmp_path, monkeypatch, shard_pages, bundles
):
    # Pagefind (0.2 s for the real site) ran once every page was rendered and written; now the pages it
    # indexes are rendered first, and the same workers render the others (timelines) while it runs.
    # With several bundles, those indexed after the build's tree was moved into place find their
    # pages in the site.
    from explainer import parallel

    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(search, "SHARD_PAGES", shard_pages)
    project = copy_real_site(tmp_path / "real")
    began = tmp_path / "indexing-began"
    marks = tmp_path / "rendered-by"
    marks.mkdir()
    rendering, indexing = render._render, pipeline.update_search_index

    def marked(env, model, strings, urls, pages, *rest):
        searchable = {page.searchable for page in pages}
        if searchable == {False}:
            deadline = time.monotonic() + 10
            while not began.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        first = pages[0].file.replace("/", "_")
        (marks / f"{os.getpid()} {len(pages)} {sorted(searchable)} {began.exists()} {first}").touch()
        return rendering(env, model, strings, urls, pages, *rest)

    def noted(*args, **kwargs):
        began.touch()
        return indexing(*args, **kwargs)

    shard_folder = search._shard_folder

    def late(source, folder, *args, **kwargs):
        # Odd shards are indexed once the tree is in place (as a large site's last bundles are).
        if source.name == "tree" and int(folder.name.split("-")[1]) % 2:
            deadline = time.monotonic() + 10
            while source.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        return shard_folder(source, folder, *args, **kwargs)

    monkeypatch.setattr(render, "_render", marked)
    monkeypatch.setattr(pipeline, "update_search_index", noted)
    monkeypatch.setattr(search, "_shard_folder", late)
    result = build(project)
    made = [mark.name.split(" ") for mark in marks.iterdir()]
    others = [mark for mark in made if mark[2] == "[False]"]
    assert {mark[2] for mark in made} == {"[True]", "[False]"}  # no chunk mixes them
    assert sum(int(mark[1]) for mark in made) == result.rendered
    assert others and {mark[3] for mark in others} == {"True"}  # rendered once indexing had begun
    assert str(os.getpid()) not in {mark[0] for mark in made}  # by the workers
    # The index is the one Pagefind makes of the written pages.
    index = project.output / search.BUNDLE
    indexed = {path.relative_to(index): path.read_bytes() for path in index.rglob("*") if path.is_file()}
    assert len([path for path in index.iterdir() if path.is_dir()]) == bundles
    shutil.rmtree(index)
    pipeline.update_search_index(project.output)
    assert indexed == {path.relative_to(index): path.read_bytes() for path in index.rglob("*") if path.is_file()}


def test_the_workers_of_a_first_build_find_the_languages_date_data_loaded(tmp_path, monkeypatch):
    # Babel loads a language's data on the first date formatted in a process: each forked worker
    # loaded it again (0.03 s for two languages) unless the build had before forking them.
    import babel.localedata

    from explainer import parallel

    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(pipeline, "workers", lambda: 2)
    monkeypatch.setattr(babel.localedata, "_cache", {})  # as in a new process: nothing loaded yet
    marks = tmp_path / "loaded-by"
    marks.mkdir()
    load = babel.localedata.load

    def marked(name, merge_inherited=True):
        if name not in babel.localedata._cache:  # read from its file, not found loaded
            (marks / f"{os.getpid()} {name}").touch()
        return load(name, merge_inherited)

    monkeypatch.setattr(babel.localedata, "load", marked)
    project = copy_real_site(tmp_path / "site")
    assert build(project, search=False).rendered >= render.PARALLEL_FROM
    loaded = [mark.name.split(" ") for mark in marks.iterdir()]
    assert {name for _, name in loaded} >= {"es", "en"}
    assert {pid for pid, _ in loaded} == {str(os.getpid())}


def test_a_template_error_names_the_file_and_line_in_a_first_build_and_later_ones(project, tmp_path):
    project = _with_layouts(project, tmp_path)
    event = project.layouts / "templates" / "event.html"
    lines = event.read_text("utf-8").splitlines(keepends=True)
    lines[5] = lines[5].rstrip("\n") + " {% if %}\n"
    event.write_text("".join(lines), "utf-8")
    for _ in range(2):  # compiled in a process of its own (a first build), then by the build itself
        found = errors_of(project)
        assert found == [
            "layouts/templates/event.html:6:1: (template): template error: Expected an expression, got 'end of statement block'"
        ]
    assert not project.output.exists()


def _indexed_pages(folder: Path):
    # Each page's record in the search index (a gzipped fragment: its URL, text and meta), with its HTML.
    for fragment in folder.glob("pagefind/*/fragment/*.pf_fragment"):
        record = json.loads(gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd"))
        yield record, (folder / record["url"].strip("/") / "index.html").read_text("utf-8")


def test_the_search_index_holds_a_fact_lists_values_as_words_without_their_labels(real_site):
    # A label ("Parties", "Author") is the interface's word, on every page of a kind: indexed, a search
    # for it found them all. Its value is indexed, apart from the text before it: Pagefind joins the
    # text of adjacent elements as written ("PartiesMexico" was found by neither word).
    checked = 0
    for record, page in _indexed_pages(real_site.folder):
        url, content = record["url"], record["content"]
        for facts in re.findall(r'<dl class="facts">(.*?)</dl>', page, re.S):
            for label, value in re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd>(.*?)</dd>", facts, re.S):
                value = html.unescape(re.sub(r"<[^>]+>", "", value)).split()[0]
                assert re.search(rf"(^|\s){re.escape(value)}", content), f"{url}: {value!r} joined to a word"
                assert not re.search(rf"{re.escape(label)}\s*{re.escape(value)}", content), f"{url}: {label!r} indexed"
                checked += 1
    assert checked > 50


def test_the_search_index_leaves_out_breadcrumbs_and_the_headings_of_lists_it_leaves_out(real_site):
    # Every event page's breadcrumb says "Timeline", and every person's page heads its (unindexed) list
    # of events "Events on the timeline": indexed, a search for the word found them all.
    entries = headings = 0
    for record, page in _indexed_pages(real_site.folder):
        if 'class="breadcrumb"' in page:
            assert record["content"].startswith(record["meta"]["title"]), record["url"]
            entries += 1
        for heading in re.findall(r"<h2[^>]*>([^<]*)</h2>\s*<[ou]l[^>]*data-pagefind-ignore", page):
            assert heading not in record["content"], f"{record['url']}: {heading!r} indexed"
            headings += 1
    assert entries > 50 and headings > 20


def test_renaming_a_person_leaves_the_search_digest_of_their_organizations_pages_as_it_was(tmp_path):
    # An organization's members are a list of the people whose roles name it, like a person's events:
    # indexed, a person's new name re-indexed the bundle of every organization they belong to, and
    # a search for the name listed those pages beside the person's own.
    project = copy_real_site(tmp_path)
    page = project.output / "es/organizaciones/departamento-de-estado/index.html"
    build(project, search=False)
    before = page.read_bytes()
    person = project.content / "people/tommy-pigott.yml"
    person.write_text(person.read_text("utf-8").replace("name: Tommy Pigott", "name: Thomas Pigott"), "utf-8")
    build(project, search=False)
    after = page.read_bytes()
    assert b"Thomas Pigott</a>" in after and after != before
    assert search_digest(after) == search_digest(before)


def test_the_search_digest_leaves_out_only_what_pagefind_ignores():
    page = (
        b'<main data-pagefind-body><h1>Ana</h1><ol class="entry-list" data-pagefind-ignore="all"><li>A</li></ol></main>'
    )
    relisted = page.replace(b"<li>A</li>", b"<li>B</li><li>C</li>")
    assert search_digest(relisted) == search_digest(page)
    assert search_digest(page.replace(b"Ana", b"Eva")) != search_digest(page)
    # An element nested in one of its own name ends the match early: more is digested, never less.
    nested = b'<div data-pagefind-ignore="all"><div>x</div>tail</div>'
    assert search_digest(nested) != search_digest(nested.replace(b"tail", b"other"))
    # Without the attribute's exact value, nothing is left out.
    assert search_digest(b"<ol data-pagefind-ignore><li>A</li></ol>") != search_digest(
        b"<ol data-pagefind-ignore><li>B</li></ol>"
    )


@pytest.mark.parametrize("by", ["cp", "Python"])
@pytest.mark.parametrize("link", [True, False], ids=["linked beside the site", "copied into memory"])
def test_pages_to_index_are_copied_in_the_order_of_their_names(tmp_path, monkeypatch, by: str, link: bool):
    # One `cp` copies a bundle's pages (a loop in a thread beside the build's waits on the interpreter's
    # lock at each call); where it fails (no GNU cp), Python copies them. Either way in name order, which
    # on some file systems is the order Pagefind finds them in.
    site = tmp_path / "site"
    names = sorted(["index.html", "es/index.html", "es/personas/ronald-johnson/index.html", "en/a b/index.html"])
    for name in reversed(names):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(f"<p>{name}</p>", "utf-8")
    ran = []
    real_run = subprocess.run

    def run(command, *args, **kwargs):
        ran.append(command[0])
        if by == "Python":
            raise FileNotFoundError(command[0])
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(search.subprocess, "run", run)
    search._copied(site, tmp_path / "bundle", names, link=link)
    assert ran == ["cp"]
    copies = [tmp_path / "bundle" / name for name in names]
    assert [path.read_bytes() for path in copies] == [(site / name).read_bytes() for name in names]
    assert [os.path.samefile(site / name, path) for name, path in zip(names, copies, strict=True)] == [link] * 4


@pytest.mark.parametrize("link", [True, False], ids=["linked", "copied"])
def test_pages_gathered_by_hand_are_linked_or_copied_or_fresh(tmp_path, link: bool):
    site = tmp_path / "site"
    names = ["a/index.html", "b/index.html", "c/index.html"]
    for name in names:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(f"<p>{name}</p>", "utf-8")
    search._gathered(site, tmp_path / "bundle", names, {"b/index.html": b"<p>fresh</p>"}, link=link)
    assert (tmp_path / "bundle/b/index.html").read_bytes() == b"<p>fresh</p>"
    assert (site / "b/index.html").read_bytes() == b"<p>b/index.html</p>"
    for name in ("a/index.html", "c/index.html"):
        assert os.path.samefile(site / name, tmp_path / "bundle" / name) == link


@pytest.fixture
def in_memory(tmp_path):
    """A folder on a file system in memory (/dev/shm), where files are listed in the order they were made."""
    root = Path("/dev/shm")
    if not root.is_dir():
        if os.environ.get("CI"):
            pytest.fail("/dev/shm is missing: the search index's scratch folders in memory are not tested")
        pytest.skip("no /dev/shm here")
    folder = Path(tempfile.mkdtemp(dir=root, prefix="explainer-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("edit", ["entry text", "new entry"])
@pytest.mark.parametrize("memory", ["in memory", "none"])
def test_an_edit_reindexes_its_bundle_in_memory_or_beside_the_site_alike(
    tmp_path, monkeypatch, in_memory, memory: str, edit: str
):
    # Pagefind's scratch folders are made in memory where the system has it (its pages copied in name
    # order, a rendered page's bytes put in place of its copy), else beside the site; either way the
    # index equals a clean build's, and nothing is left in either place.
    monkeypatch.setattr(search, "MEMORY", in_memory if memory == "in memory" else tmp_path / "no such folder")
    monkeypatch.setattr(search, "SHARD_PAGES", 12)
    project = copy_real_site(tmp_path / "site")
    build(project)
    used = []
    real_run_pagefind = search._run_pagefind

    def run_pagefind(pages, bundle):
        used.append((pages.is_relative_to(in_memory), bundle.is_relative_to(in_memory)))
        return real_run_pagefind(pages, bundle)

    monkeypatch.setattr(search, "_run_pagefind", run_pagefind)
    (edit_entry_text if edit == "entry text" else add_entry)(project.root)
    build(project)
    expected = {(True, True)} if memory == "in memory" else {(False, False)}
    assert used and set(used) <= expected | {(memory == "in memory", False)}
    assert list(in_memory.iterdir()) == [] and not list(tmp_path.glob(".explainer-search-*"))
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


def test_an_edit_indexed_while_its_other_pages_render_leaves_the_site_as_it_was_when_one_of_them_fails(
    tmp_path, monkeypatch
):
    # Pagefind starts on an edit's entry pages while its timelines are rendered: a timeline that fails
    # then fails the build, and neither the pages nor the bundle Pagefind made are put in place.
    project = copy_real_site(tmp_path / "site")
    build(project)
    before = tree_digest(project.output)
    indexed = []
    real_run_pagefind = search._run_pagefind

    def run_pagefind(pages, bundle):
        indexed.append(sorted(path.relative_to(pages).as_posix() for path in pages.rglob("*.html")))
        return real_run_pagefind(pages, bundle)

    monkeypatch.setattr(search, "_run_pagefind", run_pagefind)
    edit_entry_text(project.root)
    timeline = project.root / "layouts/templates/timeline.html"
    timeline.write_text(timeline.read_text("utf-8").replace("{% block main %}", "{% block main %}{{ no_such }}", 1))
    with pytest.raises(pipeline.BuildFailed) as failed:
        build(project)
    assert [(error.path, "no_such" in error.message) for error in failed.value.errors] == [
        ("layouts/templates/timeline.html", True)
    ]
    assert indexed, "the bundle of the edited entry was being made while the timelines were rendered"
    assert tree_digest(project.output) == before


def test_search_bundles_written_file_by_file_equal_those_moved_into_place(project, tmp_path, monkeypatch):
    # A first build moves each new bundle folder in whole; where it cannot (the output folder on
    # another file system than its parent), the bundle's files are written one by one instead.
    build(project)
    moved = tree_digest(project.output)
    shutil.rmtree(project.output)
    monkeypatch.setattr(pipeline, "_moved_into_place", lambda folder, target: False)
    build(project)
    assert any(name.startswith("pagefind/0/") for name in moved)
    assert tree_digest(project.output) == moved


PARALLEL_BUILD = """
import sys
from pathlib import Path
from explainer import content, feeds, links, parallel, pipeline, render
from explainer.cache import Cache
from explainer.pipeline import build, project_at
for module in (content, feeds, links, render):
    module.PARALLEL_FROM = 1
# The feeds made by a process of their own, which computes their parts across the cores too.
pipeline.FEEDS_APART_FROM = pipeline.PARTS_APART_FROM = 1
# Many chunks of pages and of feed parts, each worker taking several.
render.CHUNK, feeds.CHUNK = 5, 7
assert parallel.workers() == 2
result = build(project_at(Path(sys.argv[1]), Path(sys.argv[2])), search=False, cache=Cache(None))
print(result.report.written.__len__())
"""


def test_pages_written_by_the_workers_that_render_them_equal_pages_written_after(tmp_path):
    # In a first build the forked workers write their pages into the new tree themselves; otherwise
    # the pages come back to the main process, which writes them. Both give the same files.
    project = copy_real_site(tmp_path / "site")
    project.output.mkdir()  # an existing (empty) output folder: written file by file, in one process
    build(project, search=False, cache=Cache(None))
    forked = tmp_path / "forked"
    done = subprocess.run(
        [sys.executable, "-c", PARALLEL_BUILD, str(project.root), str(forked)],
        cwd=REPO,
        env={**os.environ, "EXPLAINER_WORKERS": "2"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(done.stdout) == len(tree_digest(project.output)) - 1  # all but the folder's marker
    assert tree_digest(forked) == tree_digest(project.output)


def test_a_past_office_reads_from_to_and_a_current_one_since(tmp_path):
    project = copy_real_site(tmp_path / "site")
    outputs = build(project, write=False, search=False, cache=Cache(None)).outputs
    past = '<time datetime="2019">2019</time> {} <time datetime="2021">2021</time>'
    english = outputs["en/people/ronald-johnson/index.html"].decode()
    spanish = outputs["es/personas/ronald-johnson/index.html"].decode()
    assert "from " + past.format("to") in english and 'since <time datetime="2019">' not in english
    assert "desde " + past.format("hasta") in spanish
    assert 'since <time datetime="2011">' in outputs["en/people/marco-rubio/index.html"].decode()


class _Shown:
    def __html__(self):
        return "<b>shown</b>"


class _Text(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "<a href='x'>&amp;\"</a>",
        "año «ñ»",
        Markup("<i>safe</i>"),
        _Text("<sub>"),
        _Shown(),
        0,
        -12,
        3.5,
        float("-inf"),
        True,
        None,
        ("<t>",),
    ],
    ids=repr,
)
def test_templates_escape_as_markupsafe_does(tmp_path, value):
    # Our escape (templates call it for every {{ }}) is a shorter way to markupsafe's result.
    ours, theirs = render.escape(value), markupsafe.escape(value)
    assert (type(ours), str(ours)) == (type(theirs), str(theirs)) == (Markup, str(theirs))
    (tmp_path / "t.html").write_text("{{ x }}|{{ [x, x]|join(',') }}|{% macro m(y) %}({{ y }}){% endmacro %}{{ m(x) }}")
    env = render.make_environment(tmp_path)
    template = env.get_template("t.html")
    assert template.root_render_func.__globals__["escape"] is render.escape
    plain = jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path), autoescape=True)
    assert template.render(x=value) == plain.get_template("t.html").render(x=value)


def test_templates_call_view_methods_and_macros_as_jinja_would(tmp_path):
    # The context's short way to call the view's methods and macros changes nothing a template sees:
    # a callable that asks for the context still gets it, and one that raises StopIteration gives
    # Jinja's undefined value.
    (tmp_path / "t.html").write_text(
        "{% macro m(x, y=2) %}[{{ x }}{{ y }}{{ varargs }}]{% endmacro %}"
        "{{ v.ui('a') }} {{ m(1) }} {{ m(1, 3, 4) }} {{ asks() }} {{ stops() is undefined }}"
        " {{ v.get('x') is undefined }}",
        "utf-8",
    )
    env = render.make_environment(tmp_path)
    env.globals["asks"] = jinja2.pass_context(lambda context: context["name"])

    def stops():
        raise StopIteration

    env.globals["stops"] = stops
    plain = jinja2.Environment(
        loader=jinja2.FileSystemLoader(tmp_path), undefined=jinja2.StrictUndefined, autoescape=True
    )
    plain.globals.update(env.globals)

    class Strings:
        def get(self, lang, key):
            return f"<{lang}:{key}>"

    view = render.View.__new__(render.View)
    view.strings, view.page_lang, view.model = Strings(), "es", types.SimpleNamespace(get=lambda entry_id: stops())
    ours = env.get_template("t.html").render(v=view, name="N")
    assert ours == plain.get_template("t.html").render(v=view, name="N")
    assert ours == "&lt;es:a&gt; [12()] [13(4,)] N True True"
