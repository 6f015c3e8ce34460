#!/usr/bin/env bash
# `make test`: the whole suite on SQLite, then again on PostgreSQL when 127.0.0.1:5432 answers.
# After each, the clock guard: the non-browser suite again with the clock moved years ahead to a day
# the clocks change (tests/clock.py), so no test passes only on some day, hour or season.
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
suite() {  # suite DATABASE LABEL CLOCK [pytest args...]
  local database=$1 label=$2 clock=$3; shift 3
  echo "=== test suite on $label ==="
  TEST_DATABASE=$database python -m pytest "$@" || status=1
  echo "=== clock guard on $label: the suite without the browser, clock moved to $clock ==="
  TEST_DATABASE=$database TEST_CLOCK=$clock python -m pytest -q -m "not e2e" "$@"
  local rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 5 ] || status=1  # 5: the arguments chose browser tests only
}

if [ "$only" = all ] || [ "$only" = sqlite ]; then
  # Years ahead, 15 minutes before clocks in the United States go forward.
  suite sqlite "SQLite" 2041-03-10T06:45:00+00:00 "$@"
fi
if [ "$only" = all ] || [ "$only" = postgresql ]; then
  if pg_up 2>/tmp/pg_check_err; then
    # Years ahead, 15 minutes before clocks in Europe go back.
    suite postgresql "PostgreSQL (127.0.0.1:5432)" 2036-10-26T00:45:00+00:00 "$@"
  else
    echo "################################################################"
    echo "# SKIPPED: the PostgreSQL run. Nothing answers on 127.0.0.1:5432"
    echo "# ($(head -c 200 /tmp/pg_check_err)). Only SQLite was tested."
    echo "################################################################"
    [ "$only" = postgresql ] && status=1
  fi
fi
exit $status
