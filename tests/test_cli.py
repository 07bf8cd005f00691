"""The command line: exit codes, messages on stderr, new entries, the check report."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import FIXTURE, REPO, tree_digest


@pytest.fixture
def cli_root(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "layouts", root / "layouts")
    return root


def run(root, *args):
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), *args], capture_output=True, text=True
    )


def test_build_then_broken_entry_exits_1_and_keeps_site(cli_root):
    done = run(cli_root, "build")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("built ")
    before = tree_digest(cli_root / "site")
    (cli_root / "content/events/talks.yml").write_text('date: "2024-06"\nstatus: soon\n')
    failed = run(cli_root, "build")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.splitlines() == [
        "content/events/talks.yml:1:1: sources: required field is missing",
        "content/events/talks.yml:1:1: summary: required field is missing",
        "content/events/talks.yml:1:1: title: required field is missing",
        "content/events/talks.yml:2:9: status: expected one of: happened, announced",
        "build failed: 4 error(s); site/ was left as it was",
    ]
    assert tree_digest(cli_root / "site") == before


def test_check_reports_coverage(cli_root):
    talks = cli_root / "content/events/talks.yml"
    talks.write_text(
        talks.read_text("utf-8").replace(
            "summary: {es: Conversaciones previstas., en: Planned talks.}", "summary: {es: Previstas.}"
        )
    )
    failed = run(cli_root, "check")
    assert failed.returncode == 1
    assert "content/events/talks.yml:4:10: summary.en: missing translation" in failed.stderr
    assert "  event         en: 1/2  (missing: content/events/talks.yml)" in failed.stdout
    passed = run(cli_root, "check", "--allow-missing")
    assert passed.returncode == 0
    assert "check passed" in passed.stdout
    assert not (cli_root / "site").exists()


def test_new_writes_a_complete_entry_that_names_what_to_fill(cli_root):
    done = run(cli_root, "new", "event", "a-new-event")
    assert done.returncode == 0, done.stderr
    path = cli_root / "content/events/a-new-event.yml"
    text = path.read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    for field in ("date:", "status:", "title:", "summary:", "body:", "people:", "sources:", "es:", "en:"):
        assert field in text
    again = run(cli_root, "new", "event", "a-new-event")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    bad = run(cli_root, "new", "person", "Not An Id")
    assert bad.returncode == 1


def test_bad_base_url_is_refused(cli_root):
    done = run(cli_root, "build", "--base-url", "javascript: alert(1)")
    assert done.returncode == 2
    assert "--base-url" in done.stderr


def test_an_output_that_cannot_be_written_is_said_in_one_line(cli_root, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    done = run(cli_root, "build", "--no-search", "--output", str(tmp_path / "a-file" / "site"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("build.py: cannot write the site: ") and "Not a directory" in lines[0]
    )
