"""Spread independent work over the machine's cores with forked processes (which inherit the model)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

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
    if workers() < 2 or len(items) < minimum:
        return [function(items)]
    return list(each_chunk(function, [items[start : start + size] for start in range(0, len(items), size)]))


def each_chunk(
    function: Callable[[Sequence[Item]], Result], chunks: list[Sequence[Item]], *, parallel: bool = True
) -> Iterator[Result]:
    """Yield `function` applied to each chunk, in order, as soon as it and those before it are done.

    If `parallel`, the chunks are handed to a process per core (to the first free one), forked when
    the iteration starts: the caller may start a thread between two results, the processes go on.
    Otherwise, or with one worker, each chunk is computed here when its result is asked for.
    """
    count = workers() if parallel else 1
    if count < 2 or len(chunks) < 2:
        yield from map(function, chunks)
        return
    global _JOB
    _JOB = (function, chunks)
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            yield from pool.imap(_run_share, range(len(chunks)))
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


class Background(Generic[Result]):
    """A computation run by a forked process beside this one, or in this one when its result is asked for.

    It has a process of its own only if `apart` and there is a core to spare (see `workers`); `then`
    runs in that process after the result is sent (work the result does not wait for, such as saving).
    """

    def __init__(self, function: Callable[[], Result], *, apart: bool, then: Callable[[], None] | None = None):
        self._function: Callable[[], Result] | None = function
        self._process = None
        self._connection = None
        if apart and workers() > 1:
            context = multiprocessing.get_context("fork")
            receiver, sender = context.Pipe(duplex=False)
            # A Process and a Pipe start no thread here (a Pool would), so workers forked later still may be.
            self._process = context.Process(target=_run_apart, args=(function, then, sender))
            self._process.start()
            sender.close()
            self._connection = receiver
        self.apart = self._process is not None
        """Whether the computation has a process of its own (else `then` is the caller's to do)."""

    def result(self) -> Result:
        """Return the computation's result (computing it now if it has no process); raise what it raised."""
        if self._connection is None:
            assert self._function is not None, "the result of a background computation is asked for once"
            function, self._function = self._function, None
            return function()
        try:
            succeeded, value = self._connection.recv()
        except EOFError:
            raise RuntimeError("the process computing in the background ended without a result") from None
        finally:
            self._connection.close()
            self._connection = None
        if not succeeded:
            raise value
        return value

    def close(self) -> None:
        """Wait for the process to end (what it does after sending the result included); end it at once
        if the result was not taken (a failed build)."""
        if self._process is None:
            return
        if self._connection is not None:
            self._process.terminate()
            self._connection.close()
            self._connection = None
        self._process.join()
        self._process = None


def _run_apart(function: Callable[[], object], then: Callable[[], None] | None, sender) -> None:
    try:
        message = (True, function())
    except BaseException as err:  # noqa: BLE001 - handed to the process that waits for the result
        message = (False, err)
    try:
        sender.send(message)
    except Exception as err:  # noqa: BLE001 - what cannot be pickled is sent as text
        failure = message[1] if not message[0] else err
        sender.send((False, RuntimeError("".join(traceback.format_exception(failure)))))
    sender.close()
    if message[0] and then is not None:
        then()
