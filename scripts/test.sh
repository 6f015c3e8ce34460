#!/usr/bin/env bash
# `make test`: the whole suite on SQLite, then again on PostgreSQL when 127.0.0.1:5432 answers.
# Usage: scripts/test.sh [sqlite|postgresql] [pytest args...]
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export MEILI_BIN="${MEILI_BIN:-$(scripts/get-meilisearch.sh)}"
only="${1:-all}"; [ $# -gt 0 ] && shift

pg_up() {
  python - <<'PY'
import sys, psycopg
try:
    psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres", connect_timeout=3).close()
except Exception as exc:
    print(exc, file=sys.stderr); sys.exit(1)
PY
}

status=0
if [ "$only" = all ] || [ "$only" = sqlite ]; then
  echo "=== test suite on SQLite ==="
  TEST_DATABASE=sqlite python -m pytest "$@" || status=1
fi
if [ "$only" = all ] || [ "$only" = postgresql ]; then
  if pg_up 2>/tmp/pg_check_err; then
    echo "=== test suite on PostgreSQL (127.0.0.1:5432) ==="
    TEST_DATABASE=postgresql python -m pytest "$@" || status=1
  else
    echo "################################################################"
    echo "# SKIPPED: the PostgreSQL run. Nothing answers on 127.0.0.1:5432"
    echo "# ($(head -c 200 /tmp/pg_check_err)). Only SQLite was tested."
    echo "################################################################"
    [ "$only" = postgresql ] && status=1
  fi
fi
exit $status
