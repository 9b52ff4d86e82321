"""Rendering: data to stdout (table | json | csv), messages and progress to stderr."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import decimal
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auroractl.plan import Change, Outcome

REPORT_FORMATS = ("table", "json", "csv")
CHANGE_FORMATS = ("text", "json")
_quiet = False
_format = "table"  # set once per invocation, by the command's --format option
_emitted = False  # a JSON document was printed: there is exactly one per invocation


def set_quiet(value: bool) -> None:
    global _quiet
    _quiet = value


def set_format(value: str) -> None:
    """The output mode of this invocation (the command's --format), set once."""
    global _format, _emitted
    _format, _emitted = value, False


def current_format() -> str:
    return _format


def json_mode() -> bool:
    return _format == "json"


@functools.cache
def _console(stderr: bool):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output (cron, files, less) gets wide rows instead of 80-column folding.
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr, width=width)


def stdout():
    return _console(False)


def stderr():
    return _console(True)


def info(message: str) -> None:
    """A status line on stderr (suppressed by --quiet)."""
    if not _quiet:
        stderr().print(message, markup=False)


def warn(message: str) -> None:
    stderr().print(f"Warning: {message}", style="yellow", markup=False)


def error(message: str) -> None:
    stderr().print(f"Error: {message}", style="bold red", markup=False)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def json_text(data: Any) -> str:
    return json.dumps(to_jsonable(data), indent=2, ensure_ascii=False)


def _rows(data: Any) -> tuple[list[str], list[list[Any]]]:
    items = data if isinstance(data, list | tuple) else [data]
    items = [to_jsonable(i) for i in items]
    columns: list[str] = []
    for item in items:
        for key in item if isinstance(item, dict) else ["value"]:
            if key not in columns:
                columns.append(key)
    rows = [[(i.get(c) if isinstance(i, dict) else i) for c in columns] for i in items]
    return columns, rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(
    data: Any,
    fmt: str | None = None,
    title: str | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Print a dataclass / dict / list of them (default: this invocation's format)."""
    fmt = fmt or ("table" if _format == "text" else _format)
    if fmt == "json":
        _emit_json(data)
        return
    cols, rows = _rows(data)
    if columns:
        index = [cols.index(c) for c in columns if c in cols]
        cols, rows = [cols[i] for i in index], [[r[i] for i in index] for r in rows]
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(cols)
        writer.writerows([[_cell(v) if isinstance(v, list | dict) else v for v in r] for r in rows])
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_edge=False)
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows:  # Text: values are data, never rich markup ("[...]" must survive)
        table.add_row(*(Text(_cell(v)) for v in r))
    stdout().print(table)


def pairs(data: dict[str, Any], fmt: str = "table") -> None:
    """A key/value listing (settings, status), values shown verbatim."""
    if fmt == "json":
        render(data, "json")
        return
    render(
        [
            {"key": k, "value": v if isinstance(v, str | None) else json.dumps(to_jsonable(v))}
            for k, v in data.items()
        ],
        fmt,
    )


def _emit_json(data: Any) -> None:
    global _emitted
    if _emitted:  # a second document would break every consumer: a bug, not a user error
        raise RuntimeError("a second JSON document in one invocation")
    _emitted = True
    sys.stdout.write(json_text(data) + "\n")


def result(
    data: Any,
    *,
    table: Callable[[], None] | None = None,
    rows: Any = None,
    title: str | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """The one thing a command prints, in this invocation's mode.

    An Outcome (from ``runner.apply``) becomes its JSON document, the plan's SQL on
    dry-run, or a "Done:" line on stderr. Report data becomes one JSON document, CSV of
    ``rows`` (default: the data itself), or a table: ``table()`` when the command draws
    its own, else a generic one."""
    from auroractl.plan import Outcome

    if isinstance(data, Outcome):
        _outcome(data)
    elif _format == "json":
        _emit_json(data)
    elif _format == "csv":
        render(data if rows is None else rows, "csv", columns=columns)
    elif table is not None:
        table()
    else:
        render(data if rows is None else rows, "table", title=title, columns=columns)


def _outcome(o: Outcome) -> None:
    if _format == "json":
        # A dry-run is the plan itself (steps / calls at the top), marked as such.
        _emit_json({**o.preview, "status": o.status} if o.status == "dry-run" else o)
        return
    if o.status == "dry-run":
        _print_preview(o.preview or {})
        return
    for note in o.notes:  # warnings about the target hold even when nothing changes
        info(f"Note: {note}")
    if o.status == "nothing-to-do":
        info(o.summary)
        return
    detail = [f"{o.duration_s:.2f}s"]
    if o.rows is not None:
        detail.append(f"{o.rows:,} rows")
    if o.lock_retries:
        detail.append(f"{o.lock_retries} lock retries")
    if o.ledger_id is not None:
        detail.append(f"ledger #{o.ledger_id}")
    info(f"{'Done' if o.status == 'applied' else 'Stopped'}: {o.summary} ({'; '.join(detail)})")


def error_document(message: str, exit_code: int, hint: str | None) -> None:
    """Under --format json an error is still one JSON document on stdout (unless the
    command already printed its document); the one-line message goes to stderr too."""
    if _format == "json" and not _emitted:
        _emit_json({"status": "error", "error": message, "exit_code": exit_code, "hint": hint})


def preview_text(preview: dict[str, Any]) -> str:
    """A change's preview as commented SQL (plans, jobs) or a call list (AWS)."""
    lines = [f"-- {preview.get('summary', '')}"]
    lines += [f"-- note: {n}" for n in preview.get("notes", ())]
    for c in preview.get("calls", ()):
        lines.append(f"-- {c['service']}.{c['operation']} {c['resource']}")
        lines.append(json.dumps(to_jsonable(c["request"]), ensure_ascii=False, sort_keys=True))
    for s in preview.get("steps", ()):
        lines.append("")
        if s["comment"]:
            lines.append(f"-- {s['comment']}")
        if s["autocommit"]:
            lines.append("-- (autocommit: runs outside a transaction)")
        if isinstance(s["params"], dict):
            lines += [f"--   {k} = {v!r}" for k, v in s["params"].items()]
        lines.append(s["sql"].rstrip().rstrip(";") + ";")
    return "\n".join(lines)


def _print_preview(preview: dict[str, Any]) -> None:
    """Print a plan (dry-run): highlighted SQL on a terminal, plain SQL otherwise."""
    text = preview_text(preview)
    if stdout().is_terminal:
        from rich.syntax import Syntax

        stdout().print(Syntax(text, "sql", theme="ansi_dark", word_wrap=True))
    else:
        sys.stdout.write(text + "\n")


def confirm_change(change: Change, target_label: str) -> bool:
    """Show the change on stderr and ask for confirmation on the terminal."""
    from rich.prompt import Confirm
    from rich.syntax import Syntax

    text = preview_text(change.preview())
    stderr().print(Syntax(text, "sql", theme="ansi_dark", word_wrap=True))
    what = "call(s)" if change.kind == "aws" else "statement(s)"
    return Confirm.ask(
        f"Apply {change.size} {what} to {target_label}?", console=stderr(), default=False
    )


def progress_enabled() -> bool:
    return not _quiet and sys.stderr.isatty() and not os.environ.get("CI")


def track(iterable: Iterable[Any], total: int | None, description: str) -> Iterable[Any]:
    """A progress bar with rate and ETA on stderr; plain iteration under --quiet / no TTY."""
    if not progress_enabled():
        return iterable
    from rich.progress import track as rich_track

    return rich_track(
        iterable, total=total, description=description, console=stderr(), transient=True
    )


@contextlib.contextmanager
def status(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner with elapsed time on stderr for long single steps; silent when piped.

    Yields a function that replaces the message."""
    if not progress_enabled():
        yield lambda _message: None
        return
    with stderr().status(message) as live:
        yield lambda text: live.update(text)


class RowsProgress:
    """Handle of :func:`rows_progress`: ``start(total)`` once known, ``advance(n)`` per batch."""

    def __init__(self, bar=None, task=None, unit: str = "rows") -> None:  # type: ignore[no-untyped-def]
        self._bar, self._task, self._unit = bar, task, unit

    def start(self, total: int | None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total or None)

    def advance(self, n: int) -> None:
        if self._bar is None:
            return
        self._bar.advance(self._task, n)
        speed = self._bar.tasks[self._task].speed
        self._bar.update(self._task, rate=f"{speed:,.0f} {self._unit}/s" if speed else "")


@contextlib.contextmanager
def rows_progress(
    description: str, total: int | None = None, unit: str = "rows"
) -> Iterator[RowsProgress]:
    """A bar with rows/s and ETA on stderr for batch jobs; silent under --quiet / no TTY."""
    if not progress_enabled():
        yield RowsProgress()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=stderr(),
        transient=True,
    ) as bar:
        yield RowsProgress(bar, bar.add_task(description, total=total or None, rate=""), unit)
