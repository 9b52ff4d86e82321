"""Every command in the registry, on a real database: the pipeline's promises hold for all.

The matrix (``test_every_command_under_hostile_input``, one database per command) gives
each command every input that applies to it: an unknown table, a name that needs
quoting, a hostile name, an unreachable host, no TTY and no --yes, --dry-run and
--format json. Each exits with a documented code (README: Errors and exit codes), in one
line on stderr (and a Hint), never a traceback; JSON mode prints exactly one document;
the database's fingerprint (catalog and every table's rows) is unchanged wherever nothing
should change. A mutating command then applies with --yes and writes one ledger row.

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
    expect: int | None = None  # every input exits with this (e.g. 3: AWS needs a profile)


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
SPLIT = """
[schema_split.schemas]
educacional = ["escolas", "alunos", "professores"]
administrativo = ["empresas", "contratos"]
"""
DEMO_CONFIG += SPLIT  # the demo's layout, told as any database's would be

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
    "rls fix-references": Case(("rls", "fix-references", "--all")),
    # A partition the app role can read: always something to revoke, whatever roles the
    # cluster already has (roles are cluster-wide; the authenticator may exist).
    "graphql grant": Case(
        ("graphql", "grant"),
        setup=(
            ("rls", "enable", "--table", "contratos"),
            "GRANT SELECT ON contratos_2024 TO application_user",
        ),
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
    # a restore: the erasure is in the log, not in the database's receipts
    "lgpd reapply": Case(
        ("lgpd", "reapply"),
        setup=(("lgpd", "forget", "2"), "DELETE FROM auroractl.lgpd_requests"),
        config='[lgpd]\nerasure_log = "erasures"\n',
    ),
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
    "schema split apply": Case(("schema", "split", "apply", "--prepare-only"), config=SPLIT),
    "schema split revert": Case(
        ("schema", "split", "revert"),
        setup=(("schema", "split", "apply", "--prepare-only"),),
        config=SPLIT,
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
    "capacity apply": "tests/aws/test_capacity.py",
    "backup prune": "tests/aws/test_backup.py",
    "backup policy apply": "tests/aws/test_backup.py",
    "backup snapshot": "tests/aws/test_backup.py",
    "restore-test cleanup": "tests/integration/test_restore_test.py (and aws/)",
    "encrypt keygen": "tests/aws/test_encrypt_keys.py",
}


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
    "schema split plan": Case(("schema", "split", "plan"), config=SPLIT),
    "webhooks dispatch": Case(("webhooks", "dispatch", "--once"), setup=(("webhooks", "install"),)),
    "webhooks status": Case(("webhooks", "status"), setup=(("webhooks", "install"),)),
    "graphql check": Case(("graphql", "check")),
    "graphql config": Case(("graphql", "config", "--output", "gql-setup")),
    "history": Case(("history",), setup=(("partition", "create", "contratos", "--year", "2031"),)),
    "config show": Case(("config", "show")),
    "map propose": Case(("map", "propose", "--force")),  # over the demo map every case has
    "map check": Case(("map", "check")),
    "map show": Case(("map", "show")),
}

REPORTS_ELSEWHERE = {
    "sandbox up": "tests/integration/test_sandbox.py",
    "alarms status": "tests/aws/test_alarms.py",
    "capacity show": "tests/aws/test_capacity.py",
    "capacity pause": "tests/aws/test_capacity.py",
    "backup list": "tests/aws/test_backup.py",
    "backup policy show": "tests/aws/test_backup.py",
    "cache publish": "tests/integration/test_matview.py (needs a redis-server)",
}

# The commands of ELSEWHERE and REPORTS_ELSEWHERE as they run here, on a database that is
# not their target (no sandbox of theirs, no AWS): their refusals and input errors. AWS
# calls, should one be made, go nowhere (AURORACTL_AWS_ENDPOINT_URL below).
OUTSIDE: dict[str, Case] = {
    # the suite's own server holds the port: refused before initdb
    "sandbox up": Case(
        ("sandbox", "up", "--scale", "0.01"), env={"AURORACTL_SANDBOX_PORT": ""}, expect=5
    ),
    "sandbox down": Case(("sandbox", "down", "--purge")),
    "sandbox reset": Case(("sandbox", "reset", "--scale", "0.01")),
    "params apply": Case(("params", "apply")),
    "alarms apply": Case(("alarms", "apply"), expect=3),  # no profile with cluster_id
    "alarms delete": Case(("alarms", "delete"), expect=3),
    "alarms status": Case(("alarms", "status"), expect=3),
    "capacity show": Case(("capacity", "show"), expect=3),  # no profile with cluster_id
    "capacity pause": Case(("capacity", "pause"), expect=3),
    "capacity apply": Case(("capacity", "apply", "--min", "0.5", "--max", "4"), expect=3),
    "backup prune": Case(("backup", "prune", "--keep-days", "7"), expect=3),
    "backup policy apply": Case(("backup", "policy", "apply", "--retention", "7"), expect=3),
    "backup policy show": Case(("backup", "policy", "show"), expect=3),
    "backup snapshot": Case(("backup", "snapshot"), expect=3),
    "backup list": Case(("backup", "list"), expect=3),
    "restore-test cleanup": Case(("restore-test", "cleanup")),
    "encrypt keygen": Case(("encrypt", "keygen", "--secret-name", "registry/key")),
    "cache publish": Case(
        ("cache", "publish", "dashboard", "--redis", "redis://127.0.0.1:1/0"),
        setup=(("matview", "create", "dashboard"),),
        config=DEMO_CONFIG,
        expect=5,  # no Redis there
    ),
}
ALL: dict[str, Case] = {**MUTATING, **REPORTS, **OUTSIDE}

# Where each command that takes a table takes it ("{t}"), with what else it needs.
ENCRYPT = ("--table", "{t}", "--column", "documento_identidade")
TABLE_ARGS: dict[str, tuple[str, ...]] = {
    "audit enable": ("audit", "enable", "--table", "{t}"),
    "audit disable": ("audit", "disable", "--table", "{t}"),
    "audit log": ("audit", "log", "--table", "{t}"),
    "encrypt backfill": ("encrypt", "backfill", *ENCRYPT),
    "encrypt finalize": ("encrypt", "finalize", *ENCRYPT),
    "encrypt rotate": ("encrypt", "rotate", *ENCRYPT),
    "encrypt status": ("encrypt", "status", *ENCRYPT),
    "partition create": ("partition", "create", "{t}", "--year", "2031"),
    "partition detach": ("partition", "detach", "{t}", "--before", "2020"),
    "partition ensure": ("partition", "ensure", "--table", "{t}", "--ahead", "4"),
    "partition status": ("partition", "status", "{t}"),
    "partition migrate prep": (*PREP[:3], "{t}", *PREP[4:]),
    **{
        f"partition migrate {verb}": ("partition", "migrate", verb, "{t}")
        for verb in ("fill", "verify", "swap", "unswap", "cleanup", "abort", "status")
    },
    "rls enable": ("rls", "enable", "--table", "{t}"),
    "rls disable": ("rls", "disable", "--table", "{t}"),
    "rls verify": ("rls", "verify", "--table", "{t}"),
    "webhooks subscribe": (
        *("webhooks", "subscribe", "novo_aluno", "--table", "{t}", "--on", "insert"),
        *HOOK,
    ),
}
QUOTED = '"Registro Diário"'  # a table whose name needs quoting, made in every database
HOSTILE = 'x"; DROP TABLE usuarios; --'
UNREACHABLE = "host=127.0.0.1 port=1 dbname=nowhere user=nobody connect_timeout=3"
# The documented exit codes (README: Errors and exit codes).
DOCUMENTED = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130}
# What an unreachable target makes these exit with: health is UNKNOWN to a monitor,
# restore-test "could not run"; the others never connect to the target.
UNREACHABLE_EXIT = {"health": 3, "restore-test": 2}
NO_DATABASE = {name for name in OUTSIDE if OUTSIDE[name].expect is not None} | {
    "sandbox up",
    "sandbox down",
    "sandbox reset",
    "sandbox status",
    "encrypt keygen",
    "config show",
    "map show",
}
# Reports that record what they did (a history row, a request, a delivery, a refresh).
RECORDS = {
    "restore-test",
    "lgpd export",
    "matview refresh",
    "webhooks dispatch",
    "partition migrate verify",  # swap needs a verification on record
}
# Commands that may say what they are about to do on stderr before an error.
PREAMBLE = {"partition migrate prep"}  # the twin's shape
# Changes that have nothing to do on the case's database need no confirmation.
NOTHING_TO_DO = {"restore-test cleanup", "params apply"}


@dataclass(frozen=True)
class Run:
    """One hostile or fair input given to one command, and what it may exit with."""

    input: str
    args: tuple[str, ...]
    codes: frozenset[int]
    json: bool = False
    unchanged: bool = True  # the database fingerprint stays as it was


def _fill(template: tuple[str, ...], table: str) -> tuple[str, ...]:
    return tuple(table if a == "{t}" else a for a in template)


def runs(name: str, opts: set[str]) -> list[Run]:
    """The matrix row of one command: each input that applies to it."""
    case, mutating = ALL[name], "--yes" in opts
    dry = ("--dry-run",) if "--dry-run" in opts else ()
    out = []
    if name in TABLE_ARGS:
        for label, table, codes in (
            ("unknown table", "contratoz", {2}),
            ("hostile name", HOSTILE, {2}),
            ("name that needs quoting", QUOTED, {0, 1, 3}),  # found; it may not fit (3)
        ):
            out.append(Run(label, (*_fill(TABLE_ARGS[name], table), *dry), frozenset(codes)))
    if name not in NO_DATABASE:
        code = UNREACHABLE_EXIT.get(name, 5)
        out.append(Run("unreachable host", ("--dsn", UNREACHABLE, *case.args), frozenset({code})))
    if mutating:
        codes = {0, 4} if name in NOTHING_TO_DO else {4}
        out.append(Run("no TTY and no --yes", case.args, frozenset(codes)))
    if dry:
        out.append(Run("--dry-run", (*case.args, *dry, "--format", "json"), frozenset({0}), True))
    if "--format" in opts:
        codes = {0, 4} if name in NOTHING_TO_DO else {4} if mutating else {0, 1}
        out.append(
            Run(
                "--format json",
                (*case.args, "--format", "json"),
                frozenset(codes),
                json=True,
                unchanged=name not in RECORDS,
            )
        )
    if case.expect is not None:
        out = [Run(r.input, r.args, frozenset({case.expect}), r.json) for r in out]
    return out


def test_every_command_has_a_case():
    commands = registry()
    mutating = {name for name, opts in commands.items() if "--yes" in opts}
    missing = mutating - set(MUTATING) - set(ELSEWHERE)
    assert not missing, f"mutating commands without a registry case: {sorted(missing)}"
    reports = {n for n, opts in commands.items() if "--format" in opts} - mutating
    missing = reports - set(REPORTS) - set(REPORTS_ELSEWHERE) - set(ELSEWHERE)
    assert not missing, f"commands with --format but no JSON case: {sorted(missing)}"
    assert set(OUTSIDE) == set(ELSEWHERE) | set(REPORTS_ELSEWHERE)
    assert set(ALL) == set(commands), sorted(set(commands) ^ set(ALL))
    takes_table = {n for n, opts in commands.items() if "--table" in opts}
    assert takes_table == set(TABLE_ARGS), sorted(takes_table ^ set(TABLE_ARGS))
    assert all(runs(n, commands[n]) for n in commands)


def _fingerprint(conn: psycopg.Connection) -> tuple:
    """Catalog (relations with their columns, constraints, indexes, privileges, row
    security), policies, triggers, roles, functions, extensions, and every user table's
    rows, as one value."""
    catalog = conn.execute(
        "SELECT md5(string_agg(format('%s.%s:%s:%s:%s:%s', n.nspname, c.relname, c.relkind,"
        " c.relrowsecurity, c.relacl, (SELECT string_agg(a.attname || ' ' ||"
        " format_type(a.atttypid, a.atttypmod) || a.attnotnull, ',' ORDER BY a.attnum)"
        " FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)),"
        " ',' ORDER BY n.nspname, c.relname)) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
    ).fetchone()[0]
    extras = conn.execute(
        "SELECT (SELECT count(*) FROM pg_policies), (SELECT count(*) FROM pg_trigger),"
        " (SELECT count(*) FROM pg_roles), (SELECT count(*) FROM pg_proc),"
        " (SELECT md5(string_agg(conname || pg_get_constraintdef(oid), ',' ORDER BY conname,"
        " oid)) FROM pg_constraint),"
        " (SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension)"
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
    from tests.integration.conftest import write_map

    conn, dsn = request.getfixturevalue("conn"), request.getfixturevalue("dsn")
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigint PRIMARY KEY, empresa_id integer NOT NULL,"
            " documento_identidade text, criado_em timestamptz NOT NULL DEFAULT now());"
            " INSERT INTO {} (id, empresa_id, documento_identidade)"
            " SELECT g, 1, 'doc-' || g FROM generate_series(1, 30) g"
        ).format(*[sql.Identifier("Registro Diário")] * 2)
    )
    write_map(dsn, "public.usuarios")  # a database auroractl has been told about
    if case.cron:
        request.getfixturevalue("cron")
    monkeypatch.setenv("AURORACTL_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setenv("AURORACTL_AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # AWS: nowhere
    for k, v in case.env.items():
        # "": the suite's own server's port (a port in use)
        monkeypatch.setenv(k, v or str(request.getfixturevalue("cluster").port))
    if case.config:
        (tmp_path / "auroractl.toml").write_text(case.config)
    commands = registry()
    for step in case.setup:
        if isinstance(step, str):
            conn.execute(step)
            continue
        takes_yes = any(
            "--yes" in opts and step[: len(name.split())] == tuple(name.split())
            for name, opts in commands.items()
        )
        result = cli(*step, *(("--yes",) if takes_yes else ()))
        assert result.exit_code == 0, (step, result.stderr)


def _problems(name: str, run: Run, result) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with one run's result: the exit code, stderr's shape, JSON."""
    code, err = result.exit_code, result.stderr
    found = []
    if code not in DOCUMENTED or code not in run.codes:
        found.append(f"exit {code} (expected {sorted(run.codes)}): {err.strip()[:300]!r}")
    if "Traceback" in err:
        found.append("a traceback on stderr")
    if code == 4 and "refusing to change" not in err:
        found.append(f"refused without saying so: {err[:200]!r}")
    if code not in (0, 1):
        lines = err.splitlines()
        if name in PREAMBLE:
            lines = lines[next((i for i, x in enumerate(lines) if x.startswith("Error: ")), 0) :]
        hint_ok = len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Hint: "))
        if not lines or not lines[0].startswith("Error: ") or not hint_ok:
            found.append(f"stderr is not one line (and a Hint): {err[:300]!r}")
    if run.json:
        try:
            document = json.loads(result.stdout)  # exactly one document, or this raises
        except ValueError as exc:
            return [*found, f"not one JSON document ({exc}): {result.stdout[:200]!r}"]
        if code not in (0, 1) and (
            not isinstance(document, dict) or document.get("exit_code") != code
        ):
            found.append(f"the error document does not say exit {code}: {document!r:.200}")
    return found


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_command_under_hostile_input(name, cli, dsn, conn, monkeypatch, tmp_path, request):
    """The matrix, one database per command: every input that applies (unknown table, a
    name that needs quoting, a hostile name, an unreachable host, no TTY and no --yes,
    --dry-run, --format json) exits with a documented code in one line, without a
    traceback, prints one JSON document in JSON mode and changes nothing where nothing
    should change. A mutating command then applies with --yes and writes one ledger row."""
    case = ALL[name]
    _prepare(case, cli, monkeypatch, tmp_path, request)
    # pg_cron jobs live in pg_cron's database: the change, and its ledger row, are there.
    where = request.getfixturevalue("cron") if case.cron else conn
    before = _fingerprint(where)
    problems = []
    for run in runs(name, registry()[name]):
        try:
            result = cli(*run.args)
        except Exception as exc:  # the boundary let it through: a traceback for the user
            problems.append(f"{run.input}: raised {type(exc).__name__}: {exc}")
            continue
        problems += [
            f"{run.input} ({' '.join(run.args)}): {p}" for p in _problems(name, run, result)
        ]
        if run.unchanged and _fingerprint(where) != before:
            problems.append(f"{run.input}: the database changed")
            before = _fingerprint(where)
    assert not problems, "\n".join(problems)
    if name in MUTATING:
        _applies_once(case, cli, where)


def _applies_once(case: Case, cli, where: psycopg.Connection) -> None:  # type: ignore[no-untyped-def]
    ledger = _ledger(where)
    applied = cli(*case.args, "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    outcome = json.loads(applied.stdout)
    assert outcome["status"] == "applied", outcome
    assert _ledger(where) == ledger + 1
    assert (
        outcome["ledger_id"]
        == where.execute("SELECT max(id) FROM auroractl.operations").fetchone()[0]
    )
    # Once more: usually nothing left to do, and still exactly one JSON document.
    again = cli(*case.args, "--yes", "--format", "json")
    document = json.loads(again.stdout)
    assert again.exit_code in DOCUMENTED, again.stderr
    assert document["status"] in (
        ("applied", "nothing-to-do") if again.exit_code == 0 else ("error",)
    )


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


def _dry_run_examples() -> list[tuple[str, ...]]:
    """The --dry-run lines of every command's Example (those on an AWS profile excepted)."""
    import shlex

    from tests.unit.test_cli import all_commands

    lines = []
    for _, command in all_commands():
        for line in (command.help or "").partition("Example:")[2].splitlines():
            if not line.strip().startswith("auroractl ") or "--dry-run" not in line:
                continue
            words = shlex.split(line.strip())
            if "--profile" not in words:
                lines.append(tuple(words[1:]))
    return lines


# Examples written for a database where they have work to do, and what the demo says.
EXAMPLE_EXIT = {
    ("partition", "migrate", "prep", "contratos"): 3,  # the demo's contratos is partitioned
    ("migrate", "up", "--directory", "./migrations"): 2,  # no ./migrations here
    ("lgpd", "reapply"): 3,  # the demo config sets no [lgpd] erasure_log
}


def test_every_dry_run_example_in_the_help_works(cli, dsn, conn, demo_map, tmp_path):
    (tmp_path / "auroractl.toml").write_text(DEMO_CONFIG)
    assert cli("audit", "enable", "--table", "alunos", "--yes").exit_code == 0  # its log
    examples = _dry_run_examples()
    assert ("partition", "create", "--month", "2026-03", "--table", "audit.audit_log",
            "--dry-run") in examples  # fmt: skip
    before = _fingerprint(conn)
    for args in examples:
        expected = next((c for k, c in EXAMPLE_EXIT.items() if args[: len(k)] == k), 0)
        result = cli(*args)
        assert result.exit_code == expected, (args, result.stderr)
    assert _fingerprint(conn) == before
