"""The import contracts name every ops feature: an unlisted module would go unchecked."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_ops_feature_is_in_the_independence_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c.get("containers") == ["auroractl.ops"]]
    listed = {name.strip() for name in contract["layers"][0].split("|")}
    ops = ROOT / "src" / "auroractl" / "ops"
    features = {
        p.stem if p.is_file() else p.name
        for p in ops.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    } - {"shared", "partition"}
    assert listed == features
