"""Error hierarchy: every failure a user can see is one of these, with its exit code.

ops raise them; ``cli`` turns them (and stray psycopg / botocore errors) into one
line on stderr. Messages must never contain secrets.
"""

from __future__ import annotations

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_PRECONDITION = 3
EXIT_REFUSED = 4
EXIT_CONNECTION = 5
EXIT_LOCK_TIMEOUT = 6
EXIT_DATABASE = 7
EXIT_AWS = 8
EXIT_NOT_LOGGED = 9  # lgpd forget: erased in the database, missing from the erasure log
EXIT_INTERRUPTED = 130

# The runner sets this attribute on a database error raised by a plan step that has a
# comment (a migration's name, ...): the one-line error and the ledger name the step.
STEP_ATTRIBUTE = "auroractl_step"


class AuroraCtlError(Exception):
    """Base class; ``str(exc)`` is the one-line message shown to the user."""

    exit_code = EXIT_DATABASE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.ledger_text: str | None = None  # what the ledger may keep, when less than str()


class CheckFailed(AuroraCtlError):
    """A verification ran and found problems."""

    exit_code = EXIT_CHECK_FAILED


class InvalidInput(AuroraCtlError):
    """The user's input is malformed or out of range (year 1899, id 'abc')."""

    exit_code = EXIT_USAGE


class NotFound(InvalidInput):
    """A named object (table, profile, partition) does not exist."""


class Precondition(AuroraCtlError):
    """The target is not in a state the operation needs (extension missing, not partitioned)."""

    exit_code = EXIT_PRECONDITION


class Refused(AuroraCtlError):
    """A change was not confirmed (no TTY and no --yes) or is unsafe."""

    exit_code = EXIT_REFUSED


class ConnectionFailed(AuroraCtlError):
    """The database could not be reached or the sandbox could not start."""

    exit_code = EXIT_CONNECTION


class LockTimeout(AuroraCtlError):
    """A lock could not be taken within lock_timeout after all retries."""

    exit_code = EXIT_LOCK_TIMEOUT


class AwsError(AuroraCtlError):
    """An AWS API call failed."""

    exit_code = EXIT_AWS


class NotLogged(AuroraCtlError):
    """An erasure done in the database whose erasure log entry could not be written
    (a restore would bring the subject back; re-running writes it)."""

    exit_code = EXIT_NOT_LOGGED


class Interrupted(KeyboardInterrupt):
    """SIGTERM (a container stop, ``kill``) while a change runs: handled like Ctrl-C (the
    transaction rolls back, the ledger row says ``interrupted (SIGTERM)``, exit 130)."""

    signal_name = "SIGTERM"
