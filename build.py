#!/usr/bin/env python3
"""Command line: build, serve, check, or start a new entry of a bilingual explainer site."""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from explainer.cache import Cache
from explainer.templates import compile_ahead

if TYPE_CHECKING:
    from explainer.errors import BuildFailed

ROOT = Path(__file__).resolve().parent
BASE_URL = re.compile(r"^(https?://[^/\s]+)?/?(\S*/?)?$")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; return the exit code."""
    # A build makes millions of objects that live until it ends (the model, the cache, the pages) and
    # few cycles; with Python's default thresholds the collector walks them all again and again (an
    # edit at 10,000 entries: 11.5 s with them, 5.7 s without, same peak memory).
    gc.set_threshold(100_000, 50, 100)
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: this file's folder)")
    commands = parser.add_subparsers(dest="command", required=True)

    for name, text in (
        ("build", "build the site into site/"),
        ("check", "validate content and report translation coverage"),
        ("serve", "build, serve on 127.0.0.1 and rebuild on every save"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--base-url", help="URL or path the site is deployed at, such as /sub/path/")
        command.add_argument(
            "--allow-missing", action="store_true", help="render untranslated entries in another language with a notice"
        )
        if name != "check":
            command.add_argument("--output", type=Path, help="output folder (default: site/)")
            command.add_argument("--no-search", action="store_true", help="skip the search index (Pagefind)")
        if name == "serve":
            command.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
            command.add_argument("--port", type=int, default=8000)
    new = commands.add_parser("new", help="write a new entry with every field, ready to fill")
    new.add_argument("kind", choices=("event", "person", "agreement", "term", "organization", "source"))
    new.add_argument("id")

    args = parser.parse_args(argv)
    if getattr(args, "base_url", None) and not BASE_URL.match(args.base_url):
        print(
            f"build.py: --base-url: expected a URL or path such as https://example.org/ or /sub/path/, not {args.base_url!r}",
            file=sys.stderr,
        )
        return 2
    if args.command != "new":
        # A first build's templates are compiled by a process of its own from here on, while this one
        # imports the rest (0.3 s): the folders are those of project_at, which is among the rest.
        root = args.root.resolve()
        compile_ahead(root / "layouts" / "templates", Cache.at(root).folder_for("templates"))
    from explainer.pipeline import project_at

    project = project_at(args.root, getattr(args, "output", None))
    if args.command == "build":
        return run_build(project, args)
    if args.command == "check":
        return run_check(project, args)
    if args.command == "serve":
        from explainer.serve import serve

        return serve(
            project,
            host=args.host,
            port=args.port,
            base_url=args.base_url,
            allow_missing=args.allow_missing,
            search=not args.no_search,
        )
    from explainer.scaffold import write_new_entry

    return write_new_entry(project, args.kind, args.id)


def run_build(project, args) -> int:
    """Build once and print a summary, or every error."""
    from explainer.errors import BuildFailed
    from explainer.output import OutputRefused
    from explainer.pipeline import build

    started = time.perf_counter()
    try:
        result = build(project, base_url=args.base_url, allow_missing=args.allow_missing, search=not args.no_search)
    except BuildFailed as failed:
        return print_errors(failed)
    except OutputRefused as refused:
        print(f"build.py: {refused}", file=sys.stderr)
        return 1
    except OSError as failed:
        # The output cannot be written (a file where a folder should be, a full disk, a feed changed by
        # another program while the site was built): said in one line, every file written whole or not.
        print(f"build.py: cannot write the site: {failed}", file=sys.stderr)
        return 1
    report = result.report
    elapsed = time.perf_counter() - started
    print(
        f"built {len(report.written) + report.unchanged} files in {elapsed:.2f} s ({result.rendered} pages rendered): "
        f"{len(report.written)} written, {len(report.removed)} removed, {report.unchanged} unchanged "
        f"-> {project.shown(project.output)}/"
    )
    return 0


def run_check(project, args) -> int:
    """Validate everything without writing; print translation coverage."""
    from explainer.errors import BuildFailed
    from explainer.pipeline import build, coverage

    status = 0
    try:
        build(project, base_url=args.base_url, allow_missing=args.allow_missing, write=False)
    except BuildFailed as failed:
        status = print_errors(failed)
    try:
        result = build(project, base_url=args.base_url, allow_missing=True, write=False)
    except BuildFailed:
        return status or 1
    print("translation coverage:")
    for kind, lang, done, total, missing in coverage(result.model):
        print(f"  {kind:<13} {lang}: {done}/{total}" + (f"  (missing: {', '.join(missing)})" if missing else ""))
    if status == 0:
        print("check passed")
    return status


def print_errors(failed: BuildFailed) -> int:
    """Print every error compiler-style on standard error; return the exit code."""
    for error in failed.errors:
        print(error, file=sys.stderr)
    print(f"build failed: {len(failed.errors)} error(s); site/ was left as it was", file=sys.stderr)
    return 1


if __name__ == "__main__":
    status = main()
    # Freeing a large site's objects one by one at exit takes a tenth of a second and more, for nothing:
    # every file is written and closed by now, so the process ends without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
