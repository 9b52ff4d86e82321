"""Shared bench plumbing: a throwaway PostgreSQL cluster and simple timing helpers."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from auroractl.ops import sandbox as sandbox_ops
from auroractl.sandbox import LocalCluster, free_port


@contextlib.contextmanager
def throwaway_cluster(dbname: str = "bench") -> Iterator[LocalCluster]:
    root = Path(tempfile.mkdtemp(prefix="auroractl-bench-"))
    root.chmod(0o755)
    c = LocalCluster(root / "pg", free_port())
    c.init()
    c.start()
    sandbox_ops.bootstrap(c, dbname)
    try:
        yield c
    finally:
        c.destroy()
        shutil.rmtree(root, ignore_errors=True)


class Inserter(threading.Thread):
    """Inserts single rows in a loop on its own connection, recording each latency."""

    def __init__(self, dsn: str, sql: str, params_fn) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.dsn, self.sql, self.params_fn = dsn, sql, params_fn
        self.samples: list[tuple[float, float]] = []  # (start, latency)
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            i = 0
            while not self._halt.is_set():
                i += 1
                t0 = time.monotonic()
                try:
                    conn.execute(self.sql, self.params_fn(i))
                except psycopg.Error as exc:
                    self.errors.append(" ".join(str(exc).split())[:120])
                self.samples.append((t0, time.monotonic() - t0))
                time.sleep(0.002)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)

    def window(self, start: float, end: float) -> list[float]:
        """Latencies of the statements that overlapped [start, end]."""
        return sorted(lat for t0, lat in self.samples if t0 + lat >= start and t0 <= end)

    def worst(self, start: float, end: float) -> float:
        return max(self.window(start, end), default=0.0)

    def percentile(self, start: float, end: float, q: float) -> float:
        window = self.window(start, end)
        return window[min(len(window) - 1, int(len(window) * q))] if window else 0.0

    def p99(self, start: float, end: float) -> float:
        return self.percentile(start, end, 0.99)
