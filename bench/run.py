"""Benchmark: build a synthetic corpus of N entries and time it, beside Hugo and Pelican on the same corpus.

python bench/run.py [--n 1000] [--no-peers] [--install-peers]
python bench/run.py --real      (the project's own site, copied to bench/work/real)

Every figure is a whole process timed from the outside (wall clock, median of --runs), with its peak
memory (the child's maximum resident set). Prints a table, then one summary line.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
sys.path.insert(0, str(REPO))

from bench.corpus import write_corpus  # noqa: E402
from bench.peers import write_hugo_site, write_pelican_site  # noqa: E402


@dataclass
class Run:
    """One timed process."""

    seconds: float
    peak_mib: float


def timed(command: list[str], cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run a command to completion; return its wall time and peak memory; fail loudly if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr[-2000:]}")
    return Run(elapsed, usage.ru_maxrss / 1024)


TRASH = WORK / "trash"
"""Where the outputs of timed runs are moved before the next; removed once the benchmark has timed everything."""
ROOM = 16 << 30
"""Free disk space below which outputs are deleted rather than moved aside (a built site of 10,000 entries: 0.56 GB)."""


def emptied(*folders: Path) -> None:
    """Move folders out of the way before a timed run (into TRASH), and wait until the disk is idle.

    Deleting them would tax the run that follows: on an ext4 file system without a journal (this
    machine's), the kernel skips the inodes freed in the last minute or more (up to six) one by one
    each time it makes a file in their block group. After deleting the last run's 40,000 files, a
    cold build spent twice the kernel time (Hugo: 14.2 s against 5.9 s, 16.6 s against 12.2 s of
    wall time); moved aside, every tool starts on a disk in the same state as on a fresh clone.
    """
    TRASH.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        if not folder.exists():
            continue
        if shutil.disk_usage(WORK).free < ROOM:
            shutil.rmtree(folder, ignore_errors=True)  # a disk short of room: deleted as before
        else:
            folder.rename(TRASH / f"{len(os.listdir(TRASH))}-{folder.name}")
    os.sync()


def take_out_trash() -> None:
    """Delete what timed runs left (once nothing more is timed)."""
    shutil.rmtree(TRASH, ignore_errors=True)


def median(runs: list[Run]) -> Run:
    """Return the median time and the largest peak of several runs."""
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mib for r in runs))


QUICK_RUNS = 5
"""The fewest runs whose median gives the no-op and one-edit figures (one run of a 3-second edit
wandered from 2.3 to 4.3 s)."""


def ours(root: Path, runs: int) -> dict[str, Run | float]:
    """Time our cold, no-op and one-edit builds, and the save-to-written time inside serve."""
    build = [sys.executable, str(REPO / "build.py"), "--root", str(root), "build"]
    results: dict[str, Run | float] = {}
    # "cold": an empty output folder and no cache, as on a fresh clone; "warm": an empty output folder
    # with the cache a previous build left in .cache/ (parsed entries, Markdown checks, fragments).
    for label, extra, keep_cache in (
        ("cold", [], False),
        ("cold-no-search", ["--no-search"], False),
        ("warm-no-search", ["--no-search"], True),
    ):
        cold = []
        for _ in range(runs):
            emptied(root / "site", *(() if keep_cache else (root / ".cache",)))
            cold.append(timed(build + extra))
        results[label] = median(cold)
    timed(build)  # the search index, for the no-op and edit figures that follow
    # A few seconds each: never fewer than QUICK_RUNS, even when the cold builds are run once.
    quick = max(runs, QUICK_RUNS)
    results["noop"] = median([timed(build) for _ in range(quick)])
    event = sorted((root / "content" / "events").glob("*.yml"))[
        len(list((root / "content" / "events").glob("*.yml"))) // 2
    ]
    edits = []
    for n in range(quick):
        event.write_text(retitled(event, f"Hecho editado {n}", f"Edited event {n}"), "utf-8")
        edits.append(timed(build))
    results["edit"] = median(edits)
    results["serve-edit"], results["serve-rebuilt"] = serve_edit(root, event)
    results["pages"] = float(sum(1 for _ in (root / "site").rglob("*.html")))
    return results


def retitled(event: Path, spanish: str, english: str) -> str:
    """Return an event file's text with a new title in both languages."""
    title = f"title: {{es: {spanish}, en: {english}}}"
    # The title is inline (the corpus) or a block of indented lines (the real site's entries).
    return re.sub(r"^title:(?:[ \t].*|(?:\n[ \t]+.*)+)$", title, event.read_text("utf-8"), count=1, flags=re.M)


def serve_edit(root: Path, event: Path) -> tuple[float, float]:
    """Return the median times from saving an event to its page being rewritten, and to the whole
    rebuild written (every page that shows the event), while serve runs.

    Each save waits for the previous one's search indexing (which serve runs after writing the pages)
    to finish, as an editor's next save usually does.
    """
    command = [sys.executable, "-u", str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"]
    with open(WORK / "serve.log", "w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
        reader.start()
        try:
            page = root / "site" / "en" / "timeline" / event.stem / "index.html"

            def indexed() -> int:
                return sum(1 for line in list(lines) if line.startswith("search index updated"))

            _wait(lambda: indexed() >= 1, process)

            def rebuilt() -> int:
                return sum(1 for line in list(lines) if line.startswith("rebuilt in"))

            times, wholes = [], []
            for n in range(5):
                before, count, builds = page.stat().st_mtime_ns, indexed(), rebuilt()
                text = retitled(event, f"Hecho servido {n}", f"Served event {n}")
                saved = time.perf_counter()
                event.write_text(text, "utf-8")
                _wait(lambda before=before: page.stat().st_mtime_ns != before, process, poll=0.002)
                times.append(time.perf_counter() - saved)
                _wait(lambda builds=builds: rebuilt() > builds, process, poll=0.002)
                wholes.append(time.perf_counter() - saved)
                # The next save waits until this one's search index is done, as an editor's usually does.
                _wait(lambda count=count: indexed() > count, process)
            return statistics.median(times), statistics.median(wholes)
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.write("".join(lines))


def _wait(condition, process: subprocess.Popen, poll: float = 0.02, seconds: float = 300) -> None:
    deadline = time.perf_counter() + seconds
    while not condition():
        if process.poll() is not None or time.perf_counter() > deadline:
            state = "stopped" if process.poll() is not None else "stalled"
            raise SystemExit(f"serve {state}; see {WORK / 'serve.log'}")
        time.sleep(poll)


def hugo(root: Path, corpus: Path, runs: int, install: bool) -> Run | str:
    """Time Hugo on the same corpus, or say why it could not run."""
    binary = shutil.which("hugo")
    if binary is None and install and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "hugo"], capture_output=True, check=False)
        binary = shutil.which("hugo")
    if binary is None:
        return "not installed (apt-get install hugo)"
    site = write_hugo_site(corpus, root / "hugo")
    results = []
    for _ in range(runs):
        emptied(site / "public")
        results.append(timed([binary, "--quiet", "--source", str(site)]))
    return median(results)


def pelican(root: Path, corpus: Path, runs: int, install: bool) -> Run | str:
    """Time Pelican (in its own virtual environment) on the same corpus, or say why it could not run."""
    venv = WORK / "pelican-venv"
    binary = venv / "bin" / "pelican"
    if not binary.exists() and install:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "pelican==4.12.0", "markdown"], check=False)
    if not binary.exists():
        return "not installed (bench/run.py --install-peers)"
    site = write_pelican_site(corpus, root / "pelican")
    results = []
    for _ in range(runs):
        emptied(site / "output")
        results.append(timed([str(binary), "-q", "-s", str(site / "pelicanconf.py"), str(site / "content")], cwd=site))
    return median(results)


def main() -> None:
    """Build the corpus, time everything, print the table and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="number of entries (default 1000)")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per cold-build figure (the no-op and edit figures take at least 5); the median is shown",
    )
    parser.add_argument("--no-peers", action="store_true", help="skip Hugo and Pelican")
    parser.add_argument("--install-peers", action="store_true", help="install Hugo (apt-get) and Pelican (venv)")
    parser.add_argument("--real", action="store_true", help="time the project's own site (a copy) instead, no peers")
    args = parser.parse_args()
    # The package's bytecode, as pip compiles an installed package's (Pelican's here): where Python may
    # not write it (PYTHONDONTWRITEBYTECODE), every timed process would compile the package again.
    compileall.compile_dir(REPO / "explainer", quiet=1)

    if args.real:
        root = WORK / "real"
        emptied(root)
        for folder in ("content", "layouts", "seeds"):
            shutil.copytree(REPO / folder, root / folder)
        args.no_peers = True
        print(f"the real site, copied to {root.relative_to(REPO)}", flush=True)
    else:
        root = WORK / f"n{args.n}"
        emptied(root)
        counts = write_corpus(args.n, root)
        (root / "layouts").symlink_to(REPO / "layouts")
        print(f"corpus: {sum(counts.values())} entries {counts}, 2 languages, in {root.relative_to(REPO)}", flush=True)

    try:
        results = ours(root, args.runs)
        peers: dict[str, Run | str] = {}
        if not args.no_peers:
            peers["hugo"] = hugo(root, root, args.runs, args.install_peers)
            peers["pelican"] = pelican(root, root, args.runs, args.install_peers)
    finally:
        take_out_trash()

    pages = results["pages"]
    cold, cold_plain, noop, edit = results["cold"], results["cold-no-search"], results["noop"], results["edit"]
    warm = results["warm-no-search"]
    rows = [
        ("cold build (with search index)", cold.seconds, cold.peak_mib),
        ("cold build (--no-search)", cold_plain.seconds, cold_plain.peak_mib),
        ("empty output, warm cache (--no-search)", warm.seconds, warm.peak_mib),
        ("no-op rebuild", noop.seconds, noop.peak_mib),
        ("rebuild after editing one event", edit.seconds, edit.peak_mib),
        ("serve: save to the event's page written", results["serve-edit"], None),
        ("serve: save to the whole rebuild written", results["serve-rebuilt"], None),
    ]
    for name, peer in peers.items():
        if isinstance(peer, Run):
            rows.append((f"{name} cold build", peer.seconds, peer.peak_mib))
    print(f"\n{'what':40} {'seconds':>9} {'peak MiB':>9}")
    for label, seconds, peak in rows:
        print(f"{label:40} {seconds:9.2f} {'' if peak is None else f'{peak:9.0f}'}", flush=True)
    print(f"{'pages per second (cold, with search)':40} {pages / cold.seconds:9.0f}")
    for name, peer in peers.items():
        if isinstance(peer, str):
            print(f"{name}: {peer}")

    def peer_text(name: str) -> str:
        peer = peers.get(name)
        if isinstance(peer, Run):
            return f"{name} {peer.seconds:.2f} s, ratio {cold_plain.seconds / peer.seconds:.2f}"
        return f"{name} {peer or 'skipped'}"

    print(
        f"\nbench {'real site' if args.real else f'N={args.n}'}: cold {cold.seconds:.2f} s (no search {cold_plain.seconds:.2f} s, "
        f"warm cache {warm.seconds:.2f} s; "
        f"{peer_text('hugo')}; {peer_text('pelican')}), noop {noop.seconds:.2f} s, edit {edit.seconds:.2f} s, "
        f"serve-edit {results['serve-edit'] * 1000:.0f} ms (whole rebuild {results['serve-rebuilt'] * 1000:.0f} ms), peak {max(cold.peak_mib, warm.peak_mib, noop.peak_mib, edit.peak_mib):.0f} MiB"
    )


if __name__ == "__main__":
    main()
