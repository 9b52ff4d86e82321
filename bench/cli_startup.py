"""`auroractl --help` wall time against `python -c pass` (and a bare Typer app).

Start-up must not import boto3, jinja2, psycopg or rich: they load inside the commands
that need them. Reports the median of N runs of each, in one run.

Usage: python bench/cli_startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
BARE_TYPER = (
    "import typer\n"
    "app = typer.Typer(rich_markup_mode=None)\n"
    "@app.command()\n"
    "def a(): 'a'\n"
    "@app.command()\n"
    "def b(): 'b'\n"
    "app()\n"
)


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "bare Typer app --help": [sys.executable, "-c", BARE_TYPER, "--help"],
        "auroractl --help": [str(BIN / "auroractl"), "--help"],
        "auroractl partition --help": [str(BIN / "auroractl"), "partition", "--help"],
    }
    timed(cases["auroractl --help"], 3)  # warm the file cache
    results = {name: timed(cmd, args.runs) for name, cmd in cases.items()}
    base = results["python -c pass"]
    print(f"{'command':30} {'median ms':>10} {'x python':>9}")
    for name, t in results.items():
        print(f"{name:30} {t * 1000:10.1f} {t / base:8.2f}x")


if __name__ == "__main__":
    main()
