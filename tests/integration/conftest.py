"""The English schema (tests/integration/schema_en.sql): a database unlike the demo, built
once per session as a template and copied for each test that asks for it."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from auroractl.sandbox import ADMIN_ROLE, LocalCluster
from tests.conftest import superuser

EN_TEMPLATE = "shop_template"
SCHEMA_EN = Path(__file__).with_name("schema_en.sql")
_counter = itertools.count()


@pytest.fixture(scope="session")
def en_template(cluster: LocalCluster) -> str:
    with superuser(cluster) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(EN_TEMPLATE), sql.Identifier(ADMIN_ROLE)
            )
        )
    with psycopg.connect(cluster.conninfo(EN_TEMPLATE), autocommit=True) as conn:
        conn.execute(SCHEMA_EN.read_text(encoding="utf-8"))
    return EN_TEMPLATE


@pytest.fixture
def en_dsn(
    cluster: LocalCluster, en_template: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh copy of the English schema as auroractl's target (AURORACTL_DSN)."""
    name = f"en{os.getpid()}_{next(_counter)}"
    with superuser(cluster) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(en_template), sql.Identifier(ADMIN_ROLE)
            )
        )
    value = cluster.conninfo(name)
    monkeypatch.setenv("AURORACTL_DSN", value)
    monkeypatch.setenv("AURORACTL_LOCK_RETRIES", "1")
    yield value
    with superuser(cluster) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def write_map(conninfo: str, default_subject: str | None = None) -> Path:
    """Propose the data map of ``conninfo``'s database as ``map propose`` does and write it
    to ./auroractl-map.toml (each test runs in its own directory): the reviewed map a DBA
    would keep. ``default_subject`` marks the subject `lgpd forget ID` means."""
    from dataclasses import replace

    from auroractl.ops import datamap as ops
    from auroractl.ops.shared import datamap as dm

    with psycopg.connect(conninfo, autocommit=True) as conn:
        m = ops.propose(conn).map
    if default_subject is not None:
        subjects = tuple(replace(s, default=s.table == default_subject) for s in m.subjects)
        m = replace(m, subjects=subjects)
    path = Path(dm.DEFAULT_FILE)
    path.write_text(dm.dumps(m), encoding="utf-8")
    return path


@pytest.fixture
def demo_map(dsn: str) -> Path:
    """The demo database's data map, proposed from its catalog, usuarios the default subject."""
    return write_map(dsn, "public.usuarios")


@pytest.fixture
def en_map(en_dsn: str) -> Path:
    """The English schema's data map, proposed from its catalog, shop.people the default."""
    return write_map(en_dsn, "shop.people")
