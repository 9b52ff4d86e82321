"""Batched jobs' common parts: the limits on their options and running their workers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from auroractl.errors import InvalidInput


def check_batching(batch_size: int, sleep_ms: int, jobs: int) -> None:
    """Refuse --batch-size / --sleep-ms / --jobs outside what the jobs accept."""
    if not 1 <= batch_size <= 100_000:
        raise InvalidInput(f"--batch-size {batch_size} is out of range (1-100000)")
    if not 0 <= sleep_ms <= 60_000:
        raise InvalidInput(f"--sleep-ms {sleep_ms} is out of range (0-60000)")
    if not 1 <= jobs <= 32:
        raise InvalidInput(f"--jobs {jobs} is out of range (1-32)")


def run_workers(worker: Callable[..., None], args: Sequence[tuple[Any, ...]]) -> None:
    """``worker(*a)`` for each ``a``: in this thread when there is one, else one thread
    each. Every worker runs to its end; then the first error is raised here."""
    if len(args) == 1:
        worker(*args[0])
        return
    errors: list[BaseException] = []

    def guarded(*a: Any) -> None:
        try:
            worker(*a)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=a, daemon=True) for a in args]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
