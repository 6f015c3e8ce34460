#!/usr/bin/env bash
# `make run`: migrate, load demo data, then choose the ports, start Meilisearch and the Procfile
# processes, and record where they serve so `flask demo-links` in another terminal agrees.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PORTAL_ENV="${PORTAL_ENV:-development}"
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

flask db upgrade
flask demo-load

# Ports are chosen only now, after the slow migrate-and-load, so nothing can take them meanwhile.
if [ -n "${PORT:-}" ]; then
  port_is_free "$PORT" || { echo "make run: port $PORT is in use (another make run?). Choose another: PORT=$((PORT + 1)) make run" >&2; exit 1; }
else
  PORT="$(free_port 8000)"
fi
export PORT
export BASE_URL="${BASE_URL:-http://127.0.0.1:$PORT}"

processes="web worker"
if [ -z "${MEILI_URL:-}" ]; then
  # A local Meilisearch, one data folder per web port so two `make run`s in one checkout both come
  # up. Started here, not by honcho, so a port taken at the last moment is retried on a fresh one.
  export MEILI_BIN; MEILI_BIN="$(scripts/get-meilisearch.sh)"
  export MEILI_MASTER_KEY="${MEILI_MASTER_KEY:-development-master-key-0123456789}"
  export MEILI_DIR="instance/meili/$PORT"
  mkdir -p "$MEILI_DIR"
  for attempt in 1 2 3 4 5; do
    MEILI_PORT="$(free_port $((7700 + RANDOM % 200)))"
    "$MEILI_BIN" --http-addr "127.0.0.1:$MEILI_PORT" --master-key "$MEILI_MASTER_KEY" \
      --db-path "$MEILI_DIR/data.ms" --dump-dir "$MEILI_DIR/dumps" --snapshot-dir "$MEILI_DIR/snapshots" \
      --env development --no-analytics --log-level WARN >>"$MEILI_DIR/meili.log" 2>&1 &
    export MEILI_PID=$!
    for _ in $(seq 100); do
      kill -0 "$MEILI_PID" 2>/dev/null || break
      # Healthy, and still ours a moment later: a server that lost the port race exits at once,
      # and the answer might have come from whoever won it.
      if curl -fsS "http://127.0.0.1:$MEILI_PORT/health" >/dev/null 2>&1; then
        sleep 1; kill -0 "$MEILI_PID" 2>/dev/null && break 2 || break
      fi
      sleep 0.1
    done
    kill "$MEILI_PID" 2>/dev/null || true
    echo "make run: Meilisearch did not start on port $MEILI_PORT (attempt $attempt); trying another port" >&2
    MEILI_PID=""
  done
  [ -n "$MEILI_PID" ] || { echo "make run: Meilisearch would not start; see $MEILI_DIR/meili.log" >&2; exit 1; }
  export MEILI_URL="http://127.0.0.1:$MEILI_PORT"
  processes="web worker search"
  # A fresh data folder (a new port) starts empty: rebuild it from the database.
  flask search check >/dev/null 2>&1 || flask search reindex
fi

# Other terminals in this checkout read this (development only), unless BASE_URL is set there.
python - "$RUN_FILE" <<PY
import json, os, sys
json.dump({"pid": os.getppid(), "base_url": os.environ["BASE_URL"], "meili_url": os.environ.get("MEILI_URL"),
           "meili_master_key": os.environ.get("MEILI_MASTER_KEY")}, open(sys.argv[1], "w"))
PY

echo
echo "Agency Portal is serving at $BASE_URL   (Ctrl-C stops everything)"
echo "Sign-in pages: $BASE_URL/northwind/login  ·  $BASE_URL/bluepeak/login  ·  staff: $BASE_URL/login"
echo "Development mail viewer: $BASE_URL/dev/mail    Health: $BASE_URL/healthz    Search: $MEILI_URL"
echo "Demo sign-in links:"
flask demo-links
echo
exec honcho start $processes
