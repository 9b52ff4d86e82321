#!/usr/bin/env bash
# The README's first command: a local sandbox and the partition walkthrough.
# Idempotent: run it again and every step reports what already exists.
set -euo pipefail

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step auroractl sandbox up --scale "${SCALE:-1}"
step auroractl partition status contratos
# The requirements' first example. On a terminal it asks before changing anything;
# here (a script, no terminal) --yes confirms.
step auroractl partition create --year 2026 --yes
step auroractl partition create --year 2026
step auroractl partition create --year 2027 --dry-run
step auroractl partition ensure --ahead 2 --yes
step auroractl partition detach --before 2020 --archive-schema archive --yes
step auroractl partition status contratos
step auroractl history --limit 5
printf '\nThe sandbox keeps running: try `auroractl partition status --format json`,\n'
printf 'or stop it with `auroractl sandbox down`.\n'
