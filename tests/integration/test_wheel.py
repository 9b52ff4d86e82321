"""The built wheel carries sql_templates/ and works outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_plans(tmp_path, dsn):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("auroractl-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "auroractl/sql_templates/partition/create.sql.j2" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True)
    run = subprocess.run(
        [
            *(str(venv / "bin" / "auroractl"), "partition", "create", "contratos"),
            *("--year", "2027", "--dry-run"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "AURORACTL_DSN": dsn},
    )
    assert run.returncode == 0, run.stderr
    assert "ATTACH PARTITION" in run.stdout
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import auroractl.templates as t; print(t.templates_dir())",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert str(venv) in where.stdout  # templates come from the installed package
