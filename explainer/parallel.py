"""Spread independent work over the machine's cores with forked processes (which inherit the model)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_JOB: tuple[Callable, Sequence] | None = None


def workers() -> int:
    """Return how many processes to use: EXPLAINER_WORKERS if set, else the cores this process may use."""
    configured = os.environ.get("EXPLAINER_WORKERS")
    if configured:
        return max(1, int(configured))
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        # Forking while another thread runs (serve's search indexer) could copy a held lock.
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, 8)


def map_in_shares(function: Callable[[Sequence[Item]], Result], items: Sequence[Item], minimum: int) -> list[Result]:
    """Apply `function` to interleaved shares of `items`, one share per worker; results in share order.

    With fewer than `minimum` items, or one worker, it is a single call in this process: starting
    processes costs more than it saves on small sites.
    """
    count = workers()
    if count < 2 or len(items) < minimum:
        return [function(items)]
    global _JOB
    _JOB = (function, [items[i::count] for i in range(count)])
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            return pool.map(_run_share, range(count))
    finally:
        _JOB = None


def map_in_chunks(
    function: Callable[[Sequence[Item]], Result], items: Sequence[Item], minimum: int, size: int
) -> list[Result]:
    """Apply `function` to consecutive chunks of `size` items, each handed to the first free worker;
    results in chunk order.

    A worker keeps what it made in one chunk for the next (whatever `function` holds on to), and
    the work of a chunk that turns out slow is not waited for by the others. With fewer than
    `minimum` items, or one worker, it is a single call in this process.
    """
    count = workers()
    if count < 2 or len(items) < minimum:
        return [function(items)]
    global _JOB
    _JOB = (function, [items[start : start + size] for start in range(0, len(items), size)])
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            return list(pool.imap(_run_share, range(len(_JOB[1]))))
    finally:
        _JOB = None


def _run_share(index: int):
    function, shares = _JOB
    return function(shares[index])


def map_in_order(function: Callable[[Item], Result], items: Sequence[Item], minimum: int) -> list[Result]:
    """Apply `function` to every item, across the cores when there are enough; results in item order."""
    return map_shares_in_order(lambda share: [function(item) for item in share], items, minimum)


def map_shares_in_order(
    function: Callable[[Sequence[Item]], list[Result]], items: Sequence[Item], minimum: int
) -> list[Result]:
    """Apply `function` (a result per item of its share) across the cores; return the results in item order."""
    shares = map_in_shares(function, items, minimum)
    # Shares are interleaved (item i is in share i % count), so this walks them back into order.
    return [shares[i % len(shares)][i // len(shares)] for i in range(len(items))]
