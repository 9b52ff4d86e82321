"""The batched jobs' shared parts: option limits and running workers."""

import threading

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops.shared.batching import check_batching, run_workers


@pytest.mark.parametrize(
    ("batch_size", "sleep_ms", "jobs", "option"),
    [(0, 0, 1, "--batch-size"), (1, -1, 1, "--sleep-ms"), (1, 0, 33, "--jobs")],
)
def test_check_batching_names_the_option(batch_size, sleep_ms, jobs, option):
    with pytest.raises(InvalidInput, match=option):
        check_batching(batch_size, sleep_ms, jobs)


def test_one_worker_runs_in_this_thread():
    seen = []
    run_workers(lambda a: seen.append((a, threading.current_thread())), [(1,)])
    assert seen == [(1, threading.current_thread())]


def test_every_worker_runs_then_the_first_error_is_raised():
    done = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        if n == 2:
            raise ValueError("worker 2")
        with lock:
            done.append(n)

    with pytest.raises(ValueError, match="worker 2"):
        run_workers(worker, [(1,), (2,), (3,)])
    assert sorted(done) == [1, 3]


def test_no_workers_is_nothing_to_do():
    run_workers(lambda: None, [])
