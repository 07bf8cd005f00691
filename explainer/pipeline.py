"""The build: read everything, check everything, render everything in memory, then write."""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import itertools
import math
import operator
import os
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from . import search as _search
from .cache import HEADER, Cache
from .content import (
    HOME_FILE,
    Project,
    file_digest,
    list_entry_files,
    listed_again,
    places_of,
    read_entries,
    read_entry,
    read_home,
    read_site_config,
    with_bytes,
    without_bytes,
)
from .dates import load_locales
from .errors import BuildFailed, ContentError
from .feeds import machine_outputs, parts_lacking, prepare_parts
from .ignored import ignored_below
from .links import build_model, patch_model
from .model import Agreement, Entry, Model, Person, SiteConfig, Source
from .output import (
    Output,
    WriteReport,
    new_tree,
    remove_left_over,
    stage_outputs,
    staging_folder,
    write_file,
    write_site,
)
from .parallel import Background, workers
from .parts import Made, Parts
from .plan import Page, plan_pages
from .records import PageTable, altered_rows, recorded, stale_pages
from .render import Rendered, derived_inputs, make_environment, render_pages
from .search import (
    BUNDLE,
    STAMP,
    Plan,
    Sharded,
    bundle_files,
    bundle_path,
    holds_already,
    index_pages,
    indexed_shards,
    resharded,
    search_digest,
    search_stamp,
    shard_count,
    sharded,
    stale_shards,
)
from .stamp import MISSING, MISSING_DIGEST, FilesSeen, inputs_stamp, read_or_nothing, with_texts
from .strings import Strings, read_strings
from .templates import compile_templates, compiled_ahead, lacking
from .timeline import facet_summary, facets_kept, patched_facets, timeline_facets
from .trace import Inputs, Manifest, Memo, Read, derived_digest, digest
from .urls import Urls


@dataclass(frozen=True)
class Snapshot:
    """What a site was built from: the model, its pages, the UI words, the URLs, and the digest of each
    entry's file (by id, the home page's as "(home)")."""

    model: Model
    pages: tuple[Page, ...]
    strings: Strings
    urls: Urls
    digests: Mapping[str, str]


@dataclass(frozen=True)
class BuildResult:
    """What a build made: the files by path, what writing changed, how many pages it rendered, the model."""

    outputs: Mapping[str, bytes]
    report: WriteReport | None
    rendered: int
    site: SiteConfig
    load_snapshot: Callable[[], Snapshot]
    search_plan: Plan | None = None
    """The pages the search index holds (file -> digest), for `update_search_index`."""

    @functools.cached_property
    def snapshot(self) -> Snapshot:
        """Return what the site was built from (read again if the build found nothing to do)."""
        return self.load_snapshot()

    @property
    def model(self) -> Model:
        """Return the model the site was built from."""
        return self.snapshot.model


Listing = Mapping[str, tuple[str, ...]]
"""The files of each bundle of a search index (by shard, as a string), as `update_search_index` left them."""


@dataclass(frozen=True)
class LastBuild:
    """What the last successful build into an output folder read and wrote, to recognize a no-op quickly."""

    stamp: str
    files: dict[str, tuple[int, int]]
    texts: tuple[str, ...]
    pages_digest: bytes
    search_plan: dict[str, str]
    search: bool
    total: int
    """How many files the site had, search index included."""
    bundles: Listing
    """The files of each bundle of the search index (see `update_search_index`)."""


@dataclass(frozen=True)
class Indexed:
    """What `update_search_index` did: the files it changed, every file of the index, and the files of
    each bundle."""

    report: WriteReport
    names: list[str]
    bundles: Listing


FEEDS_APART_FROM = 2000
"""From this many pages, the feeds are made by a process of their own while the pages are rendered."""


def project_at(root: Path, output: Path | None = None) -> Project:
    """Return the project whose content/ and layouts/ live in `root`."""
    root = root.resolve()
    return Project(root=root, content=root / "content", layouts=root / "layouts", output=(output or root / "site"))


def build(
    project: Project,
    *,
    base_url: str | None = None,
    allow_missing: bool = False,
    write: bool = True,
    search: bool = True,
    index_now: bool = True,
    cache: Cache | None = None,
    save: bool = True,
    sole_writer: bool = False,
    on_written: Callable[[SiteConfig, WriteReport], None] | None = None,
    saved: Collection[str] | None = None,
) -> BuildResult:
    """Build the site of `project`; raise BuildFailed with every error, leaving the output untouched.

    With `index_now=False` the search index is left for `update_search_index`, run after the pages.
    `cache` (by default the project's .cache/) lets the build reuse parsed entries, Markdown checks
    and, when writing, every page whose inputs have not changed since it was written; it is written
    back at the end unless `save` is false (serve saves it after the browser has reloaded).
    `sole_writer` says that no one but the caller writes the output (serve's rebuilds): unless another
    build wrote it since this cache's last, the pages' files are not looked at for changes made by hand.
    `on_written` is called once the site's files are in place (but for the search index, when it is made
    now), before the build records what it wrote: serve tells the browsers then. `saved` are the paths
    a watcher reported since the last build with this cache (serve's): only those files are looked at
    for changes (see stamp.inputs_stamp).
    """
    cache = cache if cache is not None else Cache.at(project.root)
    site, strings = read_settings(project, base_url)
    if write:
        # What builds killed before they ended left beside the site (their scratch folders) goes.
        remove_left_over(project.output)

    # Nothing read has changed since the last build into this folder, which is as it left it: done.
    # The stamp is taken before anything is read, so that a save during the build is never missed.
    last = cache.part("last").get(str(project.output)) if write else None
    last_texts = last.texts if last else ()
    read: dict[str, bytes] = {}
    file_digests: dict[str, str] = {}
    known = cache.part("files")
    # The size of the search index's bundles shapes the output as the code does.
    header = f"{cache.code}\0{site!r}\0{allow_missing}\0{_search.SHARD_PAGES}\0"
    files_stamp = (
        inputs_stamp(project, header, known, read, file_digests, saved=saved, memory=cache.memory) if write else None
    )
    stamp = with_texts(files_stamp, project, last_texts) if write else ""
    cache.changed("files")
    # Another process wrote the output and did not save what it wrote: the record may miss files.
    unsaved = write and cache.written_since_saved(project.output)
    if (
        last is not None
        and (last.stamp, last.search) == (stamp, search)
        and not unsaved
        and _as_left(project.output, last, search and index_now)
    ):
        return BuildResult(
            SiteFiles({}, project.output, list(last.files)),
            WriteReport((), (), last.total),
            0,
            site,
            functools.partial(_read_snapshot, project, site, strings, allow_missing, cache),
            last.search_plan,
        )

    # The record of the pages the last build wrote. On a large site, a process of its own looks for
    # their files altered or removed since (24,000 `stat` calls) while this one reads the model.
    site_key = digest(cache.code, repr(site), repr(_path_strings(strings)))
    recorded_pages = cache.part("pages") if write else {}
    previous, indexed_before = recorded_pages.get("table"), recorded_pages.get("sharded")
    if previous is None or previous.output != str(project.output) or previous.key != site_key:
        previous, indexed_before = PageTable(Manifest(site_key), str(project.output)), None
    # Not when the caller is the output's sole writer (serve, after its first build) and no other
    # process has written it since: the rows keep the size and time each file was written with, so
    # the next build that looks still finds a file altered meanwhile.
    if sole_writer and not unsaved and cache.wrote_last(project.output):
        looking = Background(set, apart=False)
    else:
        looking = Background(functools.partial(altered_rows, previous), apart=len(previous.files) >= FEEDS_APART_FROM)
    compiling = _compiling_templates(project, cache)
    with ended_with(looking, *compiling):
        # Read every entry (reusing what the cache parsed before), then resolve references into the model.
        model, digests, kept_pages, behind, known = read_model(
            project, site, strings, allow_missing, cache, read, file_digests, saved=saved
        )
        altered = looking.result()
        # While the templates may still be compiling: what every process rendering pages or making
        # the feeds would load for itself once forked.
        load_locales(site.languages)
        for share in compiling:
            if share.apart:
                share.result()
    del read, file_digests

    # Plan the pages (or take the kept plan of a patched model); render those whose inputs changed
    # since they were written (all, when not writing).
    snapshot = _snapshot_of(model, digests, strings, kept_pages)
    urls, pages = snapshot.urls, list(snapshot.pages)
    env = environment_for(project, cache)
    # The last build's inputs in this process (serve's): the digests it recorded are compared with
    # these for the reads that changed between the two, not read by read (see Inputs.digests_for).
    inputs = Inputs(
        model,
        digests,
        strings,
        _template_digests(project.layouts / "templates"),
        derived_inputs(model, urls),
        known,
        previous=cache.memory.get(Inputs),
    )
    # Feeds, calendars, exports and the sitemap, made of parts of each entry: those whose reads did not
    # change are copied from the files the last build wrote. On a large site a process of their own
    # makes them while this one finds and renders the stale pages: when the build writes and saves its
    # cache, that process loads the table of their parts itself (5 MB), writes them beside the site and
    # keeps where their parts lie, so that only their names come back (else it sends them, when it has
    # many parts to compute: a first build's).
    large = len(pages) >= FEEDS_APART_FROM
    staged = write and save and large
    parts_at = functools.partial(_parts_at, cache, site_key, inputs, project.output if write else None)
    parts = parts_at if staged else parts_at()
    # Whatever happens from here on, the process making the feeds has ended when the build does, and
    # so has the thread indexing the pages for search.
    with (
        _feeds_beside(
            project,
            parts,
            snapshot,
            cache,
            staged=staged,
            apart=staged or (large and parts_lacking(model, urls, pages, parts) >= PARTS_APART_FROM),
            then=functools.partial(_keep_apart, cache, project, snapshot, allow_missing) if save else None,
        ) as feeds,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as indexer,
    ):
        # The pages whose inputs changed since they were written, or whose files were altered (all of
        # them, when not writing).
        stale = stale_pages(previous, pages, inputs, altered) if write else pages
        indexing: concurrent.futures.Future | None = None
        planned: list[tuple[dict[str, str], Plan, Sharded]] = []

        def start_indexing(first: Rendered) -> None:
            # Pagefind indexes the pages just rendered (from memory, or from a first build's tree) and
            # the others (from the output folder) while the rest are rendered (timelines, the slowest),
            # the feeds finished and the pages written; the new bundles are put in place once the pages
            # are (`written` says whether they were: not if the build failed).
            nonlocal indexing
            if first.errors:
                return
            planned.append(_search_planned(previous, pages, stale, first, indexed_before))
            _, plan, grouped = planned[0]
            listing = (last.pages_digest, last.bundles) if last is not None and last.search else None
            indexing = indexer.submit(
                update_search_index,
                project.output,
                plan,
                fresh=first.outputs,
                written=written,
                listing=listing,
                grouped=grouped,
                pages_in=tree,
            )

        # A first build (no output folder yet) has its pages written into a new tree by the processes
        # that render them; the tree is renamed into place once complete, or removed; the indexer is
        # told whether the pages were written once it is.
        written: concurrent.futures.Future = concurrent.futures.Future()
        with _told(written), new_tree(project.output) if write else contextlib.nullcontext() as tree:
            memo = Memo(lambda table: _manifest_in(cache.part(table)), site_key, inputs, model, strings)
            # The pages the index holds are rendered first, and Pagefind started on them while the same
            # processes render the others.
            early = write and search and index_now
            first = [page for page in stale if page.searchable] if early else stale
            rest = [page for page in stale if not page.searchable] if early else []
            rendered = render_pages(
                env,
                model,
                strings,
                urls,
                first,
                {},
                memo,
                into=tree,
                then=start_indexing if early else None,
                after=rest,
            )
            if rendered.errors:
                raise BuildFailed(rendered.errors)
            made: dict[str, Output] = dict(rendered.outputs)
            machine, layouts = feeds.result()  # no layouts if the feeds' process kept them
            made.update(machine)
            made.update(read_static(project.layouts / "static"))
            if not write:
                if search:
                    plan = {page.file: search_digest(made[page.file]) for page in pages if page.searchable}
                    bundle, errors = index_pages(made, plan)
                    if errors:
                        raise BuildFailed(errors)
                    made.update(bundle)
                    made[STAMP] = search_stamp(plan)
                return BuildResult(made, None, len(stale), site, lambda: snapshot)

            # Write only what changed; nothing was touched before this point.
            kept = [page.file for page in pages if page.file not in made and page.file not in rendered.written]
            # The files the last build left, if nothing has written the output since its record was
            # saved: only those can be stale, and a large site's folders need not all be listed.
            left = None
            if last is not None and last.search == search and not unsaved:
                left = last.files.keys()
            cache.begin_writing(project.output)
            report = write_site(
                made,
                project.output,
                keep=f"{BUNDLE}/" if search else None,
                kept=kept,
                tree=tree,
                in_tree=rendered.written,
                previous=left,
            )
            if layouts is not None:
                # Where each part of the feeds lies in them, for the next build to copy those it keeps.
                _replace_part(cache, "feeds", layouts.kept(project.output))
        if on_written is not None:
            on_written(site, report)
        # What the next build needs, made once the caller is told: the fragments of pages kept for the
        # next build to reuse, and the plan of the search index (unless Pagefind was started on it).
        # A table no page asked for is left as the last build saved it: its records are checked against
        # the digests saved with them when next loaded.
        for table in memo.loaded():
            _replace_part(cache, table, {**memo.kept_records(table), HEADER: memo.numbering(table)})
        if not planned:
            planned.append(_search_planned(previous, pages, stale, rendered, indexed_before))
        searched, search_plan, to_index = planned[0]
        # While Pagefind indexes, this process records the pages and saves the cache; the record of the
        # whole build is completed once the index is in place, and saved last.
        manifest = recorded(previous, pages, rendered.reads, inputs, str(project.output), searched)
        _replace_part(cache, "pages", {"table": manifest, "sharded": to_index})
        if save and not feeds.apart and len(pages) >= FEEDS_APART_FROM and behind >= KEPT_BEHIND_AT_MOST:
            keep_model(cache, project, snapshot, allow_missing)  # as the feeds' process would have
        if save:
            cache.save(leaving=("last",))
        # The result reads files back from the output folder when asked: a large site's pages are not
        # held in memory beyond this point (the cache is saved below with room to spare).
        names = [*kept, *rendered.written, *made]
        files = _files_written(project, manifest, made)
        texts = tuple(sorted(source.text_file for source in model.sources if source.text_file))
        if texts != last_texts:
            # Source texts new to this build (a first build's): they join the stamp of the files taken
            # before anything was read, which a save since must not change (nor is it worth 10,000 `stat`s).
            stamp = with_texts(files_stamp, project, texts)
        bundles: Listing = {}
        if indexing is not None:
            indexed = indexing.result()
            names += indexed.names
            report = report.merged(indexed.report)
            bundles = indexed.bundles
        outputs = SiteFiles({}, project.output, names)
        total = len(report.written) + report.unchanged
        last = LastBuild(stamp, files, texts, to_index.stamp, search_plan, search, total, bundles)
        _replace_part(cache, "last", {str(project.output): last})
        del made, rendered
        if save:
            cache.save()
        inputs.forget_previous()
        cache.memory[Inputs] = inputs
        return BuildResult(outputs, report, len(stale), site, lambda: snapshot, search_plan)


PARTS_APART_FROM = 2000
"""From this many parts to compute, a large site's feeds are made by a process of their own."""


def make_feeds(
    parts: Parts, snapshot: Snapshot, staged: tuple[Path, Path, Cache] | None = None
) -> tuple[dict[str, Output], Made | None]:
    """Return the feeds, calendars, exports and sitemap by path, and where their parts lie in them.

    With `staged` (the output folder, a staging folder beside it and the cache), those that differ from
    the files in place are written into the staging folder (see output.Staged), and where their parts
    lie is put in the cache rather than returned.
    """
    model, strings, urls, pages = snapshot.model, snapshot.strings, snapshot.urls, list(snapshot.pages)
    # A first build computes its parts across the cores before assembling them.
    prepare_parts(model, urls, pages, parts)
    outputs = machine_outputs(model, urls, strings, pages, parts)
    if staged is None:
        return outputs, parts.made()
    output, folder, cache = staged
    files = stage_outputs(outputs, output, folder)
    _replace_part(cache, "feeds", parts.made().kept(output, files))
    return files, None


def _parts_at(cache: Cache, key: str, inputs: Inputs, output: Path | None) -> Parts:
    # The parts of the feeds as the last build left them in `output` (see parts.Parts).
    return Parts(cache.part("feeds"), key, inputs, output)


def _feeds_of(parts: Parts | Callable[[], Parts], snapshot: Snapshot, staged: tuple[Path, Path, Cache] | None):
    # In the process that makes the feeds: their parts (loaded there, if not already), then the feeds.
    return make_feeds(parts() if callable(parts) else parts, snapshot, staged)


@contextlib.contextmanager
def _feeds_beside(
    project: Project,
    parts: Parts | Callable[[], Parts],
    snapshot: Snapshot,
    cache: Cache,
    *,
    staged: bool,
    apart: bool,
    then: Callable[[], None] | None,
) -> Iterator[Background]:
    # The feeds made by a process of their own if `apart`, written into a staging folder if `staged`;
    # the folder is removed (with what the build did not move into the site) once that process ended.
    with staging_folder(project.output, "feeds") if staged else contextlib.nullcontext() as folder:
        stage = (project.output, folder, cache) if folder is not None else None
        feeds = Background(functools.partial(_feeds_of, parts, snapshot, stage), apart=apart, then=then)
        with ended_with(feeds):
            yield feeds


def _keep_apart(cache: Cache, project: Project, snapshot: Snapshot, allow_missing: bool) -> None:
    # In the process that made the feeds, after sending them: where their parts lie, if it wrote them,
    # and the model and its plan for the next build to patch (pickling a large site's model takes a
    # third of a second, off the build's path).
    keep_model(cache, project, snapshot, allow_missing)
    cache.save(("feeds", "snapshot", "model"))


@contextlib.contextmanager
def _told(written: concurrent.futures.Future):
    # Tells the search indexer whether the block wrote the pages (it ran to its end) or not.
    try:
        yield
    except BaseException:
        written.set_result(False)
        raise
    written.set_result(True)


@contextlib.contextmanager
def ended_with(*backgrounds: Background):
    """Wait for background processes to end with the block; end them at once if the block failed."""
    try:
        yield
    finally:
        for background in backgrounds:
            background.close()


def _read_snapshot(project: Project, site: SiteConfig, strings: Strings, allow_missing: bool, cache: Cache) -> Snapshot:
    # What a build that found nothing to do was built from, read when asked for (serve asks).
    model, digests, kept_pages, _, _ = read_model(project, site, strings, allow_missing, cache)
    return _snapshot_of(model, digests, strings, kept_pages)


def _snapshot_of(
    model: Model, digests: Mapping[str, str], strings: Strings, pages: tuple[Page, ...] | None = None
) -> Snapshot:
    # The page plan of a model (unless given, as kept); two pages at one URL stop the build.
    urls = Urls(model.site.base_url, strings)
    if pages is None:
        planned, errors = plan_pages(model, urls)
        if errors:
            raise BuildFailed(errors)
        pages = tuple(planned)
    return Snapshot(model, pages, strings, urls, digests)


def _compiling_templates(project: Project, cache: Cache) -> list[Background]:
    # A build without the templates compiled in its cache (a first build) renders with them loaded
    # compiled by processes of their own: compiling was 0.27-0.3 s of the real site's first build, and
    # of each worker's share of a large site's (each compiled them all). build.py starts one before it
    # imports the rest (see templates.compile_ahead); otherwise they are compiled in a share per core
    # while this process reads the model. Any other build has nothing to compile, or a template or two
    # (an edit).
    templates, compiled = project.layouts / "templates", cache.folder_for("templates")
    if compiled is None or "environment" in cache.memory:
        return []
    ahead = compiled_ahead(templates, compiled)
    if ahead is not None:
        return [ahead]
    shares = workers() if lacking(templates, compiled) else 0
    return [
        Background(functools.partial(compile_templates, templates, compiled, share, shares), apart=True)
        for share in range(shares)
    ]


def environment_for(project: Project, cache: Cache):
    """Return the Jinja environment of the project's templates, kept in `cache` while they are unchanged."""
    # serve rebuilds with one environment until a template file changes. The environment itself never
    # looks at the files again (a stat per template used, thousands per build).
    folder = project.layouts / "templates"
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    stamp = (folder, tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in files))
    kept = cache.memory.get("environment")
    if kept is None or kept[0] != stamp:
        kept = cache.memory["environment"] = (stamp, make_environment(folder, cache.folder_for("templates")))
    return kept[1]


def read_settings(project: Project, base_url: str | None) -> tuple[SiteConfig, Strings]:
    """Read content/site.yml and the UI words of each language; raise BuildFailed on any problem."""
    site, errors = read_site_config(project)
    if site is None:
        raise BuildFailed(errors)
    if base_url is not None:
        site = replace(site, base_url=_normalize_base_url(base_url))
    strings, errors = read_strings(project.layouts / "strings", site.languages, project.shown)
    if errors or strings is None:
        raise BuildFailed(errors)
    return site, strings


def read_model(
    project: Project,
    site: SiteConfig,
    strings: Strings,
    allow_missing: bool,
    cache: Cache,
    read: Mapping[str, bytes] | None = None,
    file_digests: Mapping[str, str] | None = None,
    *,
    saved: Collection[str] | None = None,
) -> tuple[Model, dict[str, str], tuple[Page, ...] | None, float, dict[Read, str]]:
    """Read every entry and the home page, resolve references; return the model, each entry's digest,
    its page plan if kept (else None: plan it), by how many entry files the model kept in the cache
    is behind it (infinite unless the model is that one patched, with its plan), and the digests of
    summaries of the model known from the kept one (see trace.Inputs).

    `read` holds files' bytes already read in this build (by path), so that they are not read twice,
    and `file_digests` the digests of files known unchanged without reading them (see list_entry_files).
    When only a few existing entries changed since a model was kept in the cache, that model with
    them read anew is the answer (see `_patched_model`), with the plan kept beside it if it still holds.
    `saved` are the files a watcher reported saved since the last build with this cache (see `build`).
    """
    listed = _entry_files_listed(project, site.languages, allow_missing, cache.memory, saved, read, file_digests)
    home = project.content / HOME_FILE
    home_digest = (file_digests or {}).get(str(home)) or _file_digest(home)
    patched = _patched_model(project, site, strings, allow_missing, cache, listed, home_digest)
    if patched is not None:
        return patched
    files = read_entries(
        project, site.languages, allow_missing=allow_missing, memo=cache.part("entries"), listed=listed
    )
    errors = list(files.errors)
    home, home_errors = read_home(project, site.languages, allow_missing=allow_missing)
    errors += home_errors
    checked = cache.part("markdown")
    known_texts = len(checked)
    checks = cache.part("checks")
    model, model_errors = build_model(
        site, files.entries, project.root, frozenset(files.unreadable), home, checked, checks, files.digests
    )
    cache.changed("checks")
    errors += model_errors
    if errors or model is None:
        raise BuildFailed(errors)
    if files.parsed or len(files.memo) != len(cache.part("entries")):
        _replace_part(cache, "entries", files.memo)
    if len(checked) != known_texts:
        cache.changed("markdown")
    return model, {**files.digests, "(home)": home_digest}, None, math.inf, {}


def _entry_files_listed(
    project: Project,
    languages: tuple[str, ...],
    allow_missing: bool,
    memory: dict,
    saved: Collection[str] | None,
    read: Mapping[str, bytes] | None,
    file_digests: Mapping[str, str] | None,
) -> tuple[list, list[ContentError]]:
    # Every entry file (see list_entry_files). Inside serve, the last listing kept in memory with the
    # few files saved since listed again, when the build's stamp found no file added or removed: it
    # then has the same files as the last stamp, which made that listing (the same tuple of paths).
    seen = memory.get((FilesSeen, str(project.root)))
    key = ("entry files", str(project.root), languages, allow_missing)
    kept = memory.get(key)
    if saved is not None and kept is not None and seen is not None and kept[0] is seen.paths:
        _, files, errors, places = kept
        if places is None:
            places = places_of(files)
        files = listed_again(
            files, places, saved, languages, allow_missing=allow_missing, read=read or {}, digests=file_digests or {}
        )
    else:
        files, errors = list_entry_files(
            project, languages, allow_missing=allow_missing, read=read, digests=file_digests
        )
        places = None
    if seen is not None:
        memory[key] = (seen.paths, without_bytes(files), errors, places)
    return files, errors


PATCHED_AT_MOST = 50
"""Past this many edited entries, reading the whole model is about as quick as patching the kept one."""


def keep_model(cache: Cache, project: Project, snapshot: Snapshot, allow_missing: bool) -> None:
    """Keep the model and page plan of `snapshot` in the cache with what they were made from, for a later
    build to patch (see `_patched_model`)."""
    model, pages, digests = snapshot.model, snapshot.pages, snapshot.digests
    kept = cache.peek("model") or {}
    if kept.get("model") is model and kept["plan"]["pages"] is pages:
        return  # the model and plan kept already, used as they were
    texts = {
        source.text_file: _file_digest(project.root / source.text_file) for source in model.sources if source.text_file
    }
    files = {entry.file: (digests[entry.id], entry.id) for entry in model.entries.values()}
    about = (repr(model.site), allow_missing, digests["(home)"])
    plan_key = _plan_key(model.site, snapshot.strings)
    if _behind_by(cache.peek("snapshot"), kept, about, texts, files, plan_key) < KEPT_BEHIND_AT_MOST:
        # The kept model and plan patched with the few entries edited since are these: pickling 10,000
        # entries on every edit would cost the next build's processor time a third of a second.
        return
    # The model is saved apart from what it was read from (loaded first, to decide); both carry the
    # same token, so that a save cut short between the two never pairs a model with another's files.
    token = digest(repr((*about, sorted(texts.items()), sorted(files.items()))))
    _replace_part(cache, "snapshot", {"token": token, "about": about, "texts": texts, "files": files})
    for page in pages:
        page.plan_digest  # noqa: B018 (kept with each page: the next build compares it with the page's record)
    # The timeline's facets and the digest of their summary (0.06-0.09 s each to compute at 10,000
    # entries) are kept too: an edit that leaves them as they were takes them (see _kept_plan).
    facets = facets_kept(model)
    summary = derived_digest(facet_summary(model))
    plan = {"pages": pages, "key": plan_key, "facets": facets, "summary": summary}
    _replace_part(cache, "model", {"token": token, "model": model, "plan": plan})


KEPT_BEHIND_AT_MOST = 10
"""A kept model is saved anew once this many entries were edited since it was (see `keep_model`)."""


def _behind_by(snapshot: dict | None, kept: dict, about: tuple, texts: dict, files: dict, plan_key: str) -> float:
    # How many entry files changed since the kept model was read from them: infinite when it cannot be
    # patched into the model now built (another entry set, settings, home page or source texts), or
    # when its plan was made with other URLs.
    if (
        not snapshot
        or not kept
        or snapshot["token"] != kept["token"]
        or snapshot["about"] != about
        or snapshot["texts"] != texts
        or kept["plan"]["key"] != plan_key
        or snapshot["files"].keys() != files.keys()
    ):
        return math.inf
    known = snapshot["files"]
    return sum(1 for name, key in files.items() if known[name] != key)


def _patched_model(
    project: Project,
    site: SiteConfig,
    strings: Strings,
    allow_missing: bool,
    cache: Cache,
    listed: tuple[list, list[ContentError]],
    home_digest: str,
) -> tuple[Model, dict[str, str], tuple[Page, ...] | None, float, dict[Read, str]] | None:
    # The model kept by an earlier build, with the entries whose files changed since read anew: what a
    # full read gives (patch_model checks them as build_model would), at a fraction of its cost on a
    # large site. Only for edits of existing entries other than sources, with the same site settings,
    # home page and source texts; anything else (or an error) is left to the full read.
    files, listing_errors = listed
    kept = cache.part("snapshot")
    if not kept or listing_errors or kept["about"] != (repr(site), allow_missing, home_digest):
        return None
    known = kept["files"]
    if len(files) != len(known):
        return None
    digests: dict[str, str] = {}
    edited = []
    for file in files:
        cls, folder, name, shown, raw, key = file
        was = known.get(shown)
        if was is None or key is None:
            return None
        if was[0] != key:
            if cls is Source or len(edited) == PATCHED_AT_MOST:
                return None
            if raw is None:
                # Edited since the model was kept, but not since the last build: read again, and
                # still what the build's stamp took it for.
                cls, folder, name, shown, raw, read_key = with_bytes(file, site.languages, allow_missing=allow_missing)
                if read_key != key:
                    return None
            edited.append((cls, folder / name, shown, raw, was[1]))
        digests[was[1]] = key
    if any(_file_digest(project.root / text) != was for text, was in kept["texts"].items()):
        return None
    stored = cache.part("model")
    if stored.get("token") != kept["token"]:
        return None
    model = kept_model = stored["model"]
    entries = []
    for cls, path, shown, raw, entry_id in edited:
        entry, errors = read_entry(cls, path, shown, site.languages, allow_missing=allow_missing, raw=raw)
        if entry is None or errors or entry.id != entry_id or type(model.entries.get(entry_id)) is not cls:
            return None
        entries.append(entry)
    if entries:
        model, errors = patch_model(model, entries)
        if model is None or errors:
            return None
    plan, known = _kept_plan(stored["plan"], kept_model, model, entries, strings)
    # What keep_model would find: the kept model is behind by the entries patched in (when its plan holds).
    behind = len(edited) if plan is not None else math.inf
    return model, {**digests, "(home)": home_digest}, plan, behind, known


def _kept_plan(
    plan: dict, kept: Model, model: Model, edited: list[Entry], strings: Strings
) -> tuple[tuple[Page, ...] | None, dict[Read, str]]:
    # The kept model's pages, the edited entries' own pages showing their new versions: the plan that
    # planning the patched model gives when the edits leave what it is made of as it was (the URLs'
    # words, each entry's languages, the entries and their order, the timeline's filters); else None.
    # With it, the digest of the filters' summary if the edits leave it as kept.
    if plan["key"] != _plan_key(model.site, strings):
        return None, {}
    ids = {entry.id for entry in edited}
    if any(entry.untranslated != kept.entries[entry.id].untranslated for entry in edited):
        return None, {}
    # Pages hold the kept model's entries: every one not edited must be the patched model's too (those
    # that are other objects found at C speed: looking at 10,000 one by one took 0.015 s of a rebuild).
    replaced = itertools.compress(kept.entries, map(operator.is_not, model.entries.values(), kept.entries.values()))
    if list(model.entries) != list(kept.entries) or not ids.issuperset(replaced):
        return None, {}
    known: dict[Read, str] = {}
    if patched_facets(plan["facets"], kept, model, edited):
        # The same facets with the same events: their summary changes only with a filter's name.
        if all(entry.label() == kept.entries[entry.id].label() for entry in edited if isinstance(entry, FILTERS)):
            known[("derived", "facets")] = plan["summary"]
    elif tuple(facet.key for facet in plan["facets"][1]) != _facet_keys(model):
        return None, {}
    pages = tuple(
        replace(page, entry=model.entries[page.entry.id]) if page.entry is not None and page.entry.id in ids else page
        for page in plan["pages"]
    )
    return pages, known


FILTERS = (Person, Agreement)
"""The kinds of entries the timeline is filtered by, named in its filters (see timeline.facet_summary)."""


def _plan_key(site: SiteConfig, strings: Strings) -> str:
    # Besides the model: what the pages' URLs are made of, and the size of the search index's bundles.
    return digest(repr(site), repr(_path_strings(strings)), _search.SHARD_PAGES)


def _facet_keys(model: Model) -> tuple:
    return tuple(facet.key for facet in timeline_facets(model))


def _as_left(output: Path, last: LastBuild, with_search: bool) -> bool:
    # Each file still has the size and time it had when written; the search index covers these pages.
    # Plain strings rather than Paths: a no-op looks at every file of the site (24,000 at 10,000
    # entries: 0.31-0.41 s with a Path made for each, 0.12-0.14 s without).
    prefix = f"{output}{os.sep}"
    for name, (size, mtime_ns) in last.files.items():
        try:
            status = os.stat(prefix + name)
        except OSError:
            return False
        if status.st_size != size or status.st_mtime_ns != mtime_ns:
            return False
    if with_search:
        stamp = output / STAMP
        return stamp.is_file() and stamp.read_bytes() == last.pages_digest
    return True


def _files_written(project: Project, manifest: PageTable, made: Mapping[str, object]) -> dict[str, tuple[int, int]]:
    # Every file of the site but the search index's, with its size and time as written.
    files = dict(manifest.written())
    for name in made:
        if name not in files:
            status = (project.output / name).stat()
            files[name] = (status.st_size, status.st_mtime_ns)
    return files


def _search_planned(
    previous: PageTable, pages: list[Page], stale: list[Page], rendered: Rendered, before: Sharded | None
) -> tuple[list[str], Plan, Sharded]:
    # What the index holds of each page (in the order of `pages`), those it holds, and those by bundle
    # with the stamp of their index: made before the indexer starts beside the rest of the build (where
    # each of its steps waits for the interpreter's lock). `before` is what the last build indexed
    # (by bundle), recorded with `previous`.
    searched, changes = search_digests(previous, pages, stale, rendered)
    plan = {page.file: found for page, found in zip(pages, searched, strict=True) if page.searchable}
    if before is None or changes is None or len(before.shards) != shard_count(len(plan)):
        return searched, plan, sharded(plan)
    # The same pages indexed as the last build's, in as many bundles: only those rendered may change.
    return searched, plan, resharded(before, changes)


def search_digests(
    previous: PageTable, pages: list[Page], stale: list[Page], rendered: Rendered
) -> tuple[list[str], dict[str, str] | None]:
    """Return what the search index reads of each page, in the order of `pages` (empty for a page it does
    not hold): of a `stale` page from its bytes as `rendered`, of another from the last build's record.

    Also return, when the index holds the same pages as the last build's, the digests of the stale
    pages it holds (else None).
    """
    fresh: dict[str, str] = {}
    same = True
    for page in stale:
        if not page.searchable:
            fresh[page.file] = ""  # whether rendered yet or not
            continue
        found = rendered.written.get(page.file)
        fresh[page.file] = found if found is not None else search_digest(rendered.outputs[page.file])
    files = [page.file for page in pages]
    if files == previous.files:
        # The same pages in the same order as the last build's (an edit's): a page's row is its place.
        searched = list(previous.searched)
        for row, found in zip(previous.rows_of(list(fresh)), fresh.values(), strict=True):
            # Only a page made again can have become indexed or not (its plan changed).
            same = same and bool(searched[row]) == bool(found)
            searched[row] = found
    else:
        same = False
        rows = previous.rows_of(files)
        searched = [
            fresh[file] if file in fresh else previous.searched[row] for file, row in zip(files, rows, strict=True)
        ]
    return searched, ({file: found for file, found in fresh.items() if found} if same else None)


def _manifest_in(table: dict) -> Manifest | None:
    # A sharded cache table: the records, and under HEADER what their reads are numbered against.
    header = table.get(HEADER)
    if header is None:
        return None
    return Manifest.renumbered(header, {name: record for name, record in table.items() if name != HEADER})


def _replace_part(cache: Cache, name: str, table: dict) -> None:
    current = cache.part(name)
    current.clear()
    current.update(table)
    cache.changed(name)


def _file_digest(path: Path) -> str:
    # As the build's stamp takes it (see _digest_of_file), so that the two can stand for each other.
    data = read_or_nothing(path)
    return MISSING_DIGEST if data is MISSING else file_digest(data)


def _template_digests(folder: Path):
    known: dict[str, str] = {}

    def of(name: str) -> str:
        if name not in known:
            known[name] = _file_digest(folder / name)
        return known[name]

    return of


def _path_strings(strings: Strings) -> list:
    # URLs are made of these, so every page depends on them.
    return sorted(
        (lang, key, value)
        for lang, table in strings.tables.items()
        for key, value in table.items()
        if key.startswith("path.")
    )


class SiteFiles(Mapping):
    """Every file of a built site by path: those this build made in memory, the others read when asked."""

    def __init__(self, made: Mapping[str, bytes], folder: Path, names: list[str]):
        self.made = made
        self.folder = folder
        self.names = sorted(set(names) | set(made))

    def __getitem__(self, name: str) -> bytes:
        if name in self.made:
            return self.made[name]
        if name not in self.names:
            raise KeyError(name)
        return (self.folder / name).read_bytes()

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def update_search_index(
    output: Path,
    plan: Plan | None = None,
    *,
    fresh: Mapping[str, bytes] | None = None,
    written: concurrent.futures.Future | None = None,
    listing: tuple[bytes, Listing] | None = None,
    grouped: Sharded | None = None,
    pages_in: Path | None = None,
) -> Indexed:
    """Index the shards of `output` whose pages changed since they were indexed; return what it did.

    `plan` names the pages to index and their digests (read from `output` when not given). `serve`
    calls this after the pages are written and the browser reloaded, so that a save shows at once.
    A build calls it before writing: `fresh` holds the pages it is about to write, indexed from there,
    and the new bundles are put in place once `written` is true (never, if it is false). `listing`
    is what the last call returned with the stamp it wrote: used if that stamp is still in place, it
    spares listing a large site's bundles (19,000 files) to find the few that change. `grouped` is
    `sharded(plan)`, if already made. A first build gives in `pages_in` the tree its pages are written
    in before it becomes `output`: they are indexed from there.
    """
    if plan is None:
        plan = _search_plan_on_disk(output)
    stamp = output / STAMP
    stamped = stamp.read_bytes() if stamp.is_file() else None
    grouped = grouped or sharded(plan)
    stale = stale_shards(grouped.stamp, stamped)
    count = shard_count(len(plan))
    known: Listing = listing[1] if listing is not None and stamped is not None and listing[0] == stamped else {}

    def files_of(shard: int) -> tuple[str, ...]:
        found = known.get(str(shard))
        return found if found is not None else tuple(_files_under(output, bundle_path(shard)))

    # The files of the bundles that stay as they are.
    bundles = {str(shard): files_of(shard) for shard in range(count) if shard not in stale}
    kept = [name for files in bundles.values() for name in files]
    if not stale:
        # The index already covers exactly these pages: it is kept as it is.
        return Indexed(WriteReport((), (), len(kept) + 1), [*kept, STAMP], bundles)
    # The files that may be left over: those of the bundles indexed again (all of them, when the count
    # of bundles changed: the site's bundles are all indexed again, and some may be gone). Known from
    # the last build's record like the others' (listing a bundle waited 0.04 s on the interpreter's lock).
    previous = None if len(stale) == count else [name for shard in stale for name in files_of(shard)]
    bundle: dict[str, bytes] = {}
    moved: list[str] = []
    held: list[str] = []
    with indexed_shards(output, grouped, stale, fresh, pages_in) as (folders, errors):
        if written is not None and not written.result():
            return Indexed(WriteReport((), (), 0), [], {})  # the pages were not written: nor their index
        if errors:
            raise BuildFailed(errors)
        for shard, folder in folders.items():
            prefix, files = bundle_path(shard), bundle_files(folder)
            bundles[str(shard)] = tuple(prefix + name for name in files)
            target = output / prefix
            if not target.exists() and _moved_into_place(folder, target):
                # A new bundle (a first build, or a site that grew): its folder is moved in whole.
                moved += [prefix + name for name in files]
            else:
                # Replaced file by file, so that a reader's search keeps working throughout; a file
                # named by its bytes that is in place already is left as it is.
                for name in files:
                    if holds_already(folder / name, target / name):
                        held.append(prefix + name)
                    else:
                        bundle[prefix + name] = (folder / name).read_bytes()
    # The moved bundles are in place already: kept by write_site, reported as written.
    report = write_site(bundle, output, within=f"{BUNDLE}/", keep=STAMP, kept=[*kept, *moved, *held], previous=previous)
    report = WriteReport(tuple(sorted([*report.written, *moved])), report.removed, report.unchanged - len(moved))
    # Written last: a build stopped before this point re-indexes next time.
    report = report.merged(write_file(output, STAMP, grouped.stamp))
    return Indexed(report, [*kept, *moved, *held, *bundle, STAMP], dict(sorted(bundles.items())))


def _moved_into_place(folder: Path, target: Path) -> bool:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, target)
    except OSError:
        return False  # the output folder on another file system than its parent: written file by file
    return True


def _search_plan_on_disk(output: Path) -> dict[str, str]:
    plan = {}
    for name in _files_under(output, ""):
        if name.endswith(".html") and not name.startswith(f"{BUNDLE}/"):
            data = (output / name).read_bytes()
            if b" data-pagefind-body" in data:
                plan[name] = search_digest(data)
    return plan


def _files_under(output: Path, folder: str) -> list[str]:
    # Plain strings rather than Paths: the search index alone has about 300 files per bundle.
    root = len(str(output)) + 1
    return sorted(
        f"{directory[root:]}/{name}".replace(os.sep, "/").lstrip("/")
        for directory, _, files in os.walk(output / folder)
        for name in files
    )


def read_static(directory: Path) -> dict[str, bytes]:
    """Return the static assets by their output path under assets/ (not what editors leave beside them)."""
    if not directory.is_dir():
        return {}
    return {
        "assets/" + path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not ignored_below(path, directory)
    }


def _normalize_base_url(value: str) -> str:
    value = value.strip()
    if "://" not in value and not value.startswith("/"):
        value = "/" + value
    return value if value.endswith("/") else value + "/"


def coverage(model: Model) -> list[tuple[str, str, int, int, list[str]]]:
    """Return, per kind and language, how many entries are fully translated, and which are not."""
    rows = []
    kinds = sorted({entry.kind for entry in model.entries.values()})
    for kind in kinds:
        entries = [e for e in model.entries.values() if e.kind == kind]
        for lang in model.site.languages:
            missing = sorted(e.file for e in entries if lang in e.untranslated)
            rows.append((kind, lang, len(entries) - len(missing), len(entries), missing))
    return rows


__all__ = ["BuildFailed", "BuildResult", "ContentError", "build", "coverage", "project_at", "read_static"]
