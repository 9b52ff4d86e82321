"""health's sequence check finds every sequence's columns through the catalog: identity,
OWNED BY, and DEFAULT nextval(...) with no ownership, each measured against its type."""

from __future__ import annotations

from tests.integration.test_health import health, section

INT4 = 2147483647


def by_column(sec: dict) -> dict[str, dict]:
    return {
        f"{f['details']['table_name']}.{f['details']['column_name']}": f for f in sec["findings"]
    }


def test_a_sequence_fed_by_default_nextval_is_measured_against_its_column(cli, dsn, conn):
    # not OWNED BY anything: only the column's DEFAULT says it feeds an int4
    conn.execute("CREATE SEQUENCE public.legacy_ids")
    conn.execute("CREATE TABLE public.legacy (id int PRIMARY KEY DEFAULT nextval('legacy_ids'))")
    conn.execute("SELECT setval('legacy_ids', %s)", [int(INT4 * 0.93)])
    code, report = health(cli, "--only", "sequences")
    sec = section(report, "sequences")
    assert code == 1 and sec["status"] == "WARN"
    finding = by_column(sec)["public.legacy.id"]
    assert finding["object"] == "public.legacy_ids" and finding["status"] == "WARN"
    assert finding["details"]["column_type"] == "integer"
    assert finding["details"]["max_value"] == INT4 and finding["details"]["used_pct"] == 93.0
    assert "highest 93.0% (public.legacy_ids)" in sec["summary"]


def test_a_shared_sequence_is_measured_against_each_column_it_feeds(cli, dsn, conn):
    conn.execute("CREATE SEQUENCE public.shared_ids")
    conn.execute("CREATE TABLE public.wide (id bigint DEFAULT nextval('shared_ids'))")
    conn.execute("CREATE TABLE public.narrow (id smallint DEFAULT nextval('shared_ids'))")
    conn.execute(
        "CREATE TABLE public.parted (id smallint DEFAULT nextval('shared_ids'), d date) "
        "PARTITION BY RANGE (d)"
    )
    conn.execute(
        "CREATE TABLE public.parted_2030 PARTITION OF public.parted "
        "FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')"
    )
    conn.execute("SELECT setval('shared_ids', 32000)")  # 97.7% of smallint, ~0% of bigint
    code, report = health(cli, "--only", "sequences")
    found = by_column(section(report, "sequences"))
    assert code == 2
    # each smallint column once (the partition's copy of the parent's default is not
    # another column); the bigint one is far from full
    assert {k: f["status"] for k, f in found.items()} == {
        "public.narrow.id": "CRIT",
        "public.parted.id": "CRIT",
    }


def test_identity_and_owned_by_still_bound_by_their_column(cli, dsn, conn):
    conn.execute("CREATE TABLE public.tiny (id smallint GENERATED ALWAYS AS IDENTITY, n smallint)")
    conn.execute("SELECT setval(pg_get_serial_sequence('public.tiny', 'id'), 31500)")
    conn.execute("CREATE SEQUENCE public.owned_ids OWNED BY public.tiny.n")  # no DEFAULT
    conn.execute("SELECT setval('owned_ids', 30000)")
    code, report = health(cli, "--only", "sequences")
    found = by_column(section(report, "sequences"))
    assert code == 2
    assert {k: (f["status"], f["details"]["column_type"]) for k, f in found.items()} == {
        "public.tiny.id": ("CRIT", "smallint"),
        "public.tiny.n": ("WARN", "smallint"),
    }
    assert report["meta"]["round_trips"] == 2  # the prelude and one query, as before
