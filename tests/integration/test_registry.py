"""Every command in the registry, on a real database: the pipeline's promises hold for all.

- every mutating command (one that takes --yes) refuses without a TTY and without --yes
  and changes nothing; --dry-run --format json prints one JSON document and changes
  nothing; applied with --yes it writes exactly one ledger row;
- every command with --format prints exactly one JSON document under --format json.

A command added to the registry without a case here fails ``test_every_command_has_a_case``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import click
import psycopg
import pytest
from psycopg import sql

from auroractl import cli as cli_module

KEY = "registry-test-key-0123456789abcdef"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    setup: tuple[tuple[str, ...] | str, ...] = ()  # commands (with --yes) or SQL, in order
    env: dict[str, str] = field(default_factory=dict)
    config: str = ""  # auroractl.toml written into the test's working directory
    cron: bool = False  # needs pg_cron


def _walk(command: click.Command, path: list[str]):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, [*path, name])
        if command.invoke_without_command:
            yield path, command
    else:
        yield path, command


def registry() -> dict[str, set[str]]:
    """'group verb' -> the command's option names, for every registered command."""
    out = {}
    for name in cli_module.COMMANDS:
        for path, command in _walk(cli_module.build_command(name), [name]):
            out[" ".join(path)] = {o for p in command.params for o in getattr(p, "opts", [])}
    return out


PREP = (
    *("partition", "migrate", "prep", "alunos", "--by", "tenant", "--column", "empresa_id"),
    *("--hash-partitions", "4"),
)
FILL = ("partition", "migrate", "fill", "alunos")
VERIFY = ("partition", "migrate", "verify", "alunos")
SWAP = ("partition", "migrate", "swap", "alunos")
BACKFILL = ("encrypt", "backfill", "--table", "usuarios", "--column", "documento_identidade")
AUDIT = ("audit", "enable", "--table", "alunos")
HOOK = ("--url", "https://hooks.example.com/alunos")
# The demo's tables named in config: only the sandbox assumes them.
DEMO_CONFIG = """[metrics]
table = "usuarios"

[matviews.dashboard]
root = "empresas"
root_key = "id"
root_label = "nome"
tenant_column = "empresa_id"
count = { total_escolas = "escolas", total_alunos = "alunos" }
sum = { receita_total = "contratos.valor_total" }
"""

MUTATING: dict[str, Case] = {
    "partition create": Case(("partition", "create", "contratos", "--year", "2031")),
    "partition ensure": Case(("partition", "ensure", "--ahead", "4")),
    "partition detach": Case(("partition", "detach", "contratos", "--before", "2020")),
    "partition migrate prep": Case(PREP),
    "partition migrate fill": Case(FILL, setup=(PREP,)),
    "partition migrate swap": Case(SWAP, setup=(PREP, FILL)),
    "partition migrate unswap": Case(
        ("partition", "migrate", "unswap", "alunos"), setup=(PREP, FILL, SWAP)
    ),
    "partition migrate cleanup": Case(
        ("partition", "migrate", "cleanup", "alunos"), setup=(PREP, FILL, SWAP, VERIFY)
    ),
    "partition migrate abort": Case(("partition", "migrate", "abort", "alunos"), setup=(PREP,)),
    "metrics apply": Case(("metrics", "apply"), config=DEMO_CONFIG),
    "init": Case(("init",)),
    "rls enable": Case(("rls", "enable", "--table", "alunos")),
    "rls disable": Case(
        ("rls", "disable", "--table", "alunos"),
        setup=(("rls", "enable", "--table", "alunos"),),
    ),
    "audit enable": Case(AUDIT),
    "audit disable": Case(("audit", "disable", "--table", "alunos"), setup=(AUDIT,)),
    "audit prune": Case(
        ("audit", "prune"),
        setup=(AUDIT, ("partition", "create", "--month", "2020-01", "--table", "audit.audit_log")),
    ),
    "encrypt backfill": Case(BACKFILL, env={"AURORACTL_ENCRYPTION_KEY": KEY}),
    "encrypt finalize": Case(
        ("encrypt", "finalize", "--table", "usuarios", "--column", "documento_identidade"),
        setup=(BACKFILL,),
        env={"AURORACTL_ENCRYPTION_KEY": KEY},
    ),
    "encrypt rotate": Case(
        ("encrypt", "rotate", "--table", "usuarios", "--column", "documento_identidade"),
        setup=(BACKFILL,),
        env={"AURORACTL_ENCRYPTION_KEY": KEY, "AURORACTL_NEW_ENCRYPTION_KEY": KEY + "-new"},
    ),
    "lgpd forget": Case(("lgpd", "forget", "1")),
    "matview create": Case(("matview", "create", "dashboard"), config=DEMO_CONFIG),
    "matview drop": Case(
        ("matview", "drop", "dashboard"),
        setup=(("matview", "create", "dashboard"),),
        config=DEMO_CONFIG,
    ),
    "schedule add": Case(
        ("schedule", "add", "registry-job", "--cron", "0 2 * * *", "--sql", "SELECT 1"), cron=True
    ),
    "schedule remove": Case(
        ("schedule", "remove", "registry-job"),
        setup=(("schedule", "add", "registry-job", "--cron", "0 2 * * *", "--sql", "SELECT 1"),),
        cron=True,
    ),
    "migrate up": Case(("migrate", "up", "--directory", "demo")),
    "schema split apply": Case(("schema", "split", "apply", "--prepare-only")),
    "schema split revert": Case(
        ("schema", "split", "revert"), setup=(("schema", "split", "apply", "--prepare-only"),)
    ),
    "webhooks install": Case(("webhooks", "install")),
    "webhooks subscribe": Case(
        (
            "webhooks",
            "subscribe",
            "novo_aluno",
            "--table",
            "alunos",
            "--on",
            "insert",
            *HOOK,
        ),
        setup=(("webhooks", "install"),),
    ),
    "webhooks retry": Case(
        ("webhooks", "retry", "--failed"),
        setup=(
            ("webhooks", "install"),
            "INSERT INTO webhook_events (event_type, payload, endpoint_url, status, attempts)"
            " VALUES ('novo_aluno', '{}', 'https://hooks.example.com/a', 'failed', 8)",
        ),
    ),
}

# Mutating commands whose target is not the test database: each is covered where its
# target lives (the sandbox's own cluster, or AWS through moto).
ELSEWHERE = {
    "sandbox down": "tests/integration/test_sandbox.py",
    "sandbox reset": "tests/integration/test_sandbox.py",
    "params apply": "tests/aws/test_params.py",
    "alarms apply": "tests/aws/test_alarms.py",
    "alarms delete": "tests/aws/test_alarms.py",
    "backup prune": "tests/aws/test_backup.py",
    "backup policy apply": "tests/aws/test_backup.py",
    "backup snapshot": "tests/aws/test_backup.py",
    "restore-test cleanup": "tests/integration/test_restore_test.py (and aws/)",
    "encrypt keygen": "tests/aws/test_encrypt_keys.py",
}


def test_every_command_has_a_case():
    commands = registry()
    mutating = {name for name, opts in commands.items() if "--yes" in opts}
    missing = mutating - set(MUTATING) - set(ELSEWHERE)
    assert not missing, f"mutating commands without a registry case: {sorted(missing)}"
    reports = {n for n, opts in commands.items() if "--format" in opts} - mutating
    missing = reports - set(REPORTS) - set(REPORTS_ELSEWHERE) - set(ELSEWHERE)
    assert not missing, f"commands with --format but no JSON case: {sorted(missing)}"


def _fingerprint(conn: psycopg.Connection) -> tuple:
    """Catalog objects, policies, triggers and every user table's rows, as one value."""
    catalog = conn.execute(
        "SELECT md5(string_agg(format('%s.%s:%s:%s', n.nspname, c.relname, c.relkind,"
        " c.relrowsecurity), ',' ORDER BY n.nspname, c.relname)) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
    ).fetchone()[0]
    extras = conn.execute(
        "SELECT (SELECT count(*) FROM pg_policies), (SELECT count(*) FROM pg_trigger),"
        " (SELECT count(*) FROM pg_roles), (SELECT count(*) FROM pg_proc)"
    ).fetchone()
    tables = conn.execute(
        "SELECT schemaname, relname FROM pg_stat_user_tables ORDER BY 1, 2"
    ).fetchall()
    rows = sql.SQL(
        "SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM {} t"
    )
    data = [conn.execute(rows.format(sql.Identifier(*t))).fetchone() for t in tables]
    return catalog, extras, tuple(data)


def _ledger(conn: psycopg.Connection) -> int:
    exists = conn.execute("SELECT to_regclass('auroractl.operations') IS NOT NULL").fetchone()[0]
    return conn.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0] if exists else 0


def _prepare(case: Case, cli, monkeypatch, tmp_path, request) -> None:
    request.getfixturevalue("demo_map")  # a database auroractl has been told about
    if case.cron:
        request.getfixturevalue("cron")
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    if case.config:
        (tmp_path / "auroractl.toml").write_text(case.config)
    commands = registry()
    for step in case.setup:
        if isinstance(step, str):
            request.getfixturevalue("conn").execute(step)
            continue
        takes_yes = any(
            "--yes" in opts and step[: len(name.split())] == tuple(name.split())
            for name, opts in commands.items()
        )
        result = cli(*step, *(("--yes",) if takes_yes else ()))
        assert result.exit_code == 0, (step, result.stderr)


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_mutating_command_refuses_previews_and_records(
    name, cli, dsn, conn, monkeypatch, tmp_path, request
):
    case = MUTATING[name]
    _prepare(case, cli, monkeypatch, tmp_path, request)
    # pg_cron jobs live in pg_cron's database: the change, and its ledger row, are there.
    where = request.getfixturevalue("cron") if case.cron else conn
    before, ledger = _fingerprint(where), _ledger(where)

    refused = cli(*case.args)  # CliRunner: stdin is not a TTY
    assert refused.exit_code == 4, (refused.exit_code, refused.stderr)
    assert "refusing" in refused.stderr and refused.stderr.count("\n") <= 2
    assert _fingerprint(where) == before and _ledger(where) == ledger

    preview = cli(*case.args, "--dry-run", "--format", "json")
    assert preview.exit_code == 0, preview.stderr
    document = json.loads(preview.stdout)  # exactly one document, or this raises
    assert document["status"] == "dry-run"
    assert _fingerprint(where) == before and _ledger(where) == ledger

    applied = cli(*case.args, "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    outcome = json.loads(applied.stdout)
    assert outcome["status"] == "applied", outcome
    assert _ledger(where) == ledger + 1
    assert (
        outcome["ledger_id"]
        == where.execute("SELECT max(id) FROM auroractl.operations").fetchone()[0]
    )


REPORTS: dict[str, Case] = {
    "sandbox status": Case(("sandbox", "status")),
    "partition status": Case(("partition", "status", "contratos")),
    "partition migrate status": Case(("partition", "migrate", "status", "alunos"), setup=(PREP,)),
    "partition migrate verify": Case(VERIFY, setup=(PREP, FILL)),
    "health": Case(("health",)),
    "top-queries": Case(("top-queries",)),
    "params show": Case(("params", "show")),
    "params diff": Case(("params", "diff")),
    "metrics show": Case(("metrics", "show"), setup=(("metrics", "apply"),), config=DEMO_CONFIG),
    "rls status": Case(("rls", "status")),
    "rls verify": Case(("rls", "verify"), setup=(("rls", "enable", "--all"),)),
    "audit status": Case(("audit", "status")),
    "audit log": Case(("audit", "log"), setup=(AUDIT,)),
    "encrypt status": Case(
        ("encrypt", "status", "--table", "usuarios", "--column", "documento_identidade"),
        setup=(BACKFILL,),
        env={"AURORACTL_ENCRYPTION_KEY": KEY},
    ),
    "lgpd map": Case(("lgpd", "map")),
    "lgpd export": Case(("lgpd", "export", "1")),
    "lgpd requests": Case(("lgpd", "requests"), setup=(("lgpd", "forget", "2"),)),
    "restore-test": Case(("restore-test",)),
    "restore-test history": Case(("restore-test", "history")),
    "matview refresh": Case(
        ("matview", "refresh", "dashboard"),
        setup=(("matview", "create", "dashboard"),),
        config=DEMO_CONFIG,
    ),
    "matview status": Case(("matview", "status")),
    "schedule list": Case(("schedule", "list"), cron=True),
    "schedule runs": Case(("schedule", "runs"), cron=True),
    "cache candidates": Case(("cache", "candidates")),
    "migrate status": Case(("migrate", "status", "--directory", "demo")),
    "migrate plan": Case(("migrate", "plan", "--directory", "demo")),
    "schema split plan": Case(("schema", "split", "plan")),
    "webhooks dispatch": Case(("webhooks", "dispatch", "--once"), setup=(("webhooks", "install"),)),
    "webhooks status": Case(("webhooks", "status"), setup=(("webhooks", "install"),)),
    "graphql check": Case(("graphql", "check")),
    "history": Case(("history",), setup=(("partition", "create", "contratos", "--year", "2031"),)),
    "config show": Case(("config", "show")),
    "map propose": Case(("map", "propose", "--force")),  # over the demo map every case has
    "map check": Case(("map", "check")),
    "map show": Case(("map", "show")),
}

REPORTS_ELSEWHERE = {
    "sandbox up": "tests/integration/test_sandbox.py",
    "alarms status": "tests/aws/test_alarms.py",
    "backup list": "tests/aws/test_backup.py",
    "backup policy show": "tests/aws/test_backup.py",
    "cache publish": "tests/integration/test_matview.py (needs a redis-server)",
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_format_json_is_one_document(name, cli, dsn, conn, monkeypatch, tmp_path, request):
    case = REPORTS[name]
    _prepare(case, cli, monkeypatch, tmp_path, request)
    result = cli(*case.args, "--format", "json")
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)  # 1: a check's finding
    json.loads(result.stdout)  # exactly one document, or this raises


@pytest.mark.parametrize(
    "args",
    [
        ("partition", "create", "--year", "2026", "--table", "contratoz", "--format", "json"),
        ("partition", "status", "contratoz", "--format", "json"),
        ("lgpd", "forget", "abc", "--format", "json"),
    ],
)
def test_an_error_under_format_json_is_one_document(args, cli, dsn, demo_map):
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "error" and document["exit_code"] == 2
    assert result.stderr.startswith("Error: ") and document["error"] in result.stderr
