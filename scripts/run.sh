#!/usr/bin/env bash
# `make run`: migrate, load demo data, start Meilisearch, then choose the web port and start the
# Procfile processes, recording where they serve so `flask demo-links` in another terminal agrees.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PORTAL_ENV="${PORTAL_ENV:-development}"
export PORT="${PORT:-8000}"
mkdir -p instance
RUN_FILE=instance/make-run.json

port_is_free() {
  python - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
PY
}

free_port() {  # first free TCP port on 127.0.0.1 at or after $1
  local port=$1
  until port_is_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

web_port_or_exit() {
  port_is_free "$PORT" || {
    echo "make run: port $PORT is in use (another make run?). Choose another: PORT=$((PORT + 1)) make run" >&2
    exit 1
  }
}

# Development mode (the mail viewer shows every sign-in link) serves this machine only.
export HOST="${HOST:-127.0.0.1}"
if [ "$PORTAL_ENV" = development ]; then
  case "$HOST" in
    127.0.0.1 | localhost | ::1 | \[::1\]) ;;
    *)
      echo "make run: development mode serves this machine only; HOST=$HOST is refused (leave HOST unset)." >&2
      exit 1
      ;;
  esac
fi

web_port_or_exit  # say so at once, not after the load
flask db upgrade
flask demo-load

MEILI_PID=""
stop_meilisearch() {
  if [ -n "$MEILI_PID" ]; then kill "$MEILI_PID" 2>/dev/null || true; wait "$MEILI_PID" 2>/dev/null || true; fi
}
trap stop_meilisearch EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

processes="web worker"
if [ -z "${MEILI_URL:-}" ]; then
  # A local Meilisearch, one data folder per web port so two `make run`s (different PORTs) both
  # come up. Started here, not by honcho, so a port taken at the last moment is retried on another.
  export MEILI_BIN; MEILI_BIN="$(scripts/get-meilisearch.sh)"
  # A key of this run's own: a health check can tell our server from another run's.
  export MEILI_MASTER_KEY="${MEILI_MASTER_KEY:-$(python -c 'import secrets; print(secrets.token_hex(16))')}"
  export MEILI_DIR="instance/meili/$PORT"
  mkdir -p "$MEILI_DIR"
  for attempt in 1 2 3 4 5; do
    MEILI_PORT="$(free_port $((7700 + RANDOM % 200)))"
    "$MEILI_BIN" --http-addr "127.0.0.1:$MEILI_PORT" --master-key "$MEILI_MASTER_KEY" \
      --db-path "$MEILI_DIR/data.ms" --dump-dir "$MEILI_DIR/dumps" --snapshot-dir "$MEILI_DIR/snapshots" \
      --env development --no-analytics --log-level WARN >>"$MEILI_DIR/meili.log" 2>&1 &
    MEILI_PID=$!
    # Ready when it answers with this run's key; a server that lost the port race exits.
    while kill -0 "$MEILI_PID" 2>/dev/null; do
      if curl -fsS -H "Authorization: Bearer $MEILI_MASTER_KEY" "http://127.0.0.1:$MEILI_PORT/version" >/dev/null 2>&1; then
        break 2
      fi
      sleep 0.2
    done
    wait "$MEILI_PID" 2>/dev/null || true
    MEILI_PID=""
    echo "make run: Meilisearch did not start on port $MEILI_PORT (attempt $attempt); trying another port" >&2
  done
  [ -n "$MEILI_PID" ] || { echo "make run: Meilisearch would not start; see $MEILI_DIR/meili.log" >&2; exit 1; }
  export MEILI_PID MEILI_URL="http://127.0.0.1:$MEILI_PORT"
  processes="web worker search"
  # A fresh data folder (a new port) starts empty: rebuild it from the database.
  flask search check >/dev/null 2>&1 || flask search reindex
fi

# The web port is checked again right before gunicorn binds it.
web_port_or_exit
export BASE_URL="${BASE_URL:-http://127.0.0.1:$PORT}"
# Other terminals in this checkout read this (development only), unless BASE_URL is set there.
python - "$RUN_FILE" <<PY
import json, os, sys
record = {"pid": os.getppid(), "base_url": os.environ["BASE_URL"], "meili_url": os.environ.get("MEILI_URL"),
          "meili_master_key": os.environ.get("MEILI_MASTER_KEY")}
with open(sys.argv[1] + ".tmp", "w") as handle:
    json.dump(record, handle)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY

echo
echo "Agency Portal is serving at $BASE_URL   (Ctrl-C stops everything)"
echo "Sign-in pages: $BASE_URL/northwind/login  ·  $BASE_URL/bluepeak/login  ·  staff: $BASE_URL/login"
echo "Development mail viewer: $BASE_URL/dev/mail    Health: $BASE_URL/healthz    Search: ${MEILI_URL}"
echo "Demo sign-in links:"
flask demo-links
echo
trap - EXIT INT TERM HUP  # from here the search process (scripts/meilisearch-dev.sh) stops Meilisearch
exec honcho start $processes
