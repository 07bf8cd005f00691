"""Work beside the build: a computation in a process of its own, its result, its failure, its end."""

import multiprocessing
import os
import time

import pytest

from explainer import pipeline
from explainer.cache import Cache
from explainer.errors import BuildFailed, ContentError
from explainer.parallel import Background
from explainer.pipeline import build
from tests.test_incremental import copy_real_site


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")


def test_a_computation_apart_runs_in_another_process_and_gives_its_result(two_workers):
    background = Background(lambda: (os.getpid(), b"x" * 1_000_000), apart=True)
    pid, data = background.result()
    background.close()
    assert pid != os.getpid() and data == b"x" * 1_000_000


def test_without_a_core_to_spare_it_runs_here_when_its_result_is_asked_for(monkeypatch):
    monkeypatch.setenv("EXPLAINER_WORKERS", "1")
    ran = []
    background = Background(lambda: ran.append(os.getpid()) or "done", apart=True)
    assert ran == []
    assert background.result() == "done" and ran == [os.getpid()]
    background.close()


def test_what_the_computation_raises_is_raised_where_its_result_is_asked_for(two_workers):
    error = ContentError("content/events/a.yml", 3, 1, "date", "not a date")

    def fail():
        raise BuildFailed([error])

    background = Background(fail, apart=True)
    with pytest.raises(BuildFailed) as raised:
        background.result()
    background.close()
    assert raised.value.errors == [error]


def test_then_runs_in_that_process_after_the_result_is_sent(two_workers, tmp_path):
    marker = tmp_path / "then"
    background = Background(lambda: 1, apart=True, then=lambda: marker.write_text(str(os.getpid())))
    assert background.result() == 1
    background.close()  # waits for what the process does after the result
    assert int(marker.read_text()) != os.getpid()
    assert not multiprocessing.active_children()


def test_closing_before_the_result_ends_the_process(two_workers, tmp_path):
    marker = tmp_path / "finished"
    background = Background(lambda: time.sleep(20) or marker.touch(), apart=True)
    started = time.monotonic()
    background.close()
    assert time.monotonic() - started < 5
    assert not multiprocessing.active_children() and not marker.exists()


def test_feeds_made_apart_equal_feeds_made_here_and_their_parts_are_kept(two_workers, tmp_path, monkeypatch):
    here = copy_real_site(tmp_path / "here")
    expected = build(here, search=False, cache=Cache.at(here.root)).outputs
    apart = copy_real_site(tmp_path / "apart")
    monkeypatch.setattr(pipeline, "FEEDS_APART_FROM", 1)
    monkeypatch.setattr(pipeline, "PARTS_APART_FROM", 1)
    outputs = build(apart, search=False, cache=Cache.at(apart.root)).outputs
    assert not multiprocessing.active_children()  # the build waited for the process to save the parts
    for name in ("en/feed.xml", "es/events.ics", "en/data.json", "es/data.json", "robots.txt"):
        assert outputs[name] == expected[name]
    # Where their parts lie is kept as when made here: the next build finds them all.
    kept_apart, kept_here = Cache.at(apart.root).part("feeds")["files"], Cache.at(here.root).part("feeds")["files"]
    assert [kept.layout for kept in kept_apart.values()] == [kept.layout for kept in kept_here.values()]
    assert sum(len(kept.layout.names) for kept in kept_apart.values()) > 100


def test_a_build_that_fails_after_the_feeds_began_leaves_no_process_behind(two_workers, tmp_path, monkeypatch):
    project = copy_real_site(tmp_path / "site")
    monkeypatch.setattr(pipeline, "FEEDS_APART_FROM", 1)
    monkeypatch.setattr(pipeline, "PARTS_APART_FROM", 1)
    error = ContentError("layouts/templates/event.html", 1, 1, "template", "broken")

    def render_failing(*args, **kwargs):
        raise BuildFailed([error])

    monkeypatch.setattr(pipeline, "render_pages", render_failing)
    with pytest.raises(BuildFailed):
        build(project, search=False, cache=Cache(None))
    assert not multiprocessing.active_children()
    assert not project.output.exists()
