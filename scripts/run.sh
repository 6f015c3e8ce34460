#!/usr/bin/env bash
# `make run`: migrate, load demo data, print sign-in links, start the Procfile processes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PORTAL_ENV="${PORTAL_ENV:-development}"
export PORT="${PORT:-8000}"
export BASE_URL="${BASE_URL:-http://127.0.0.1:$PORT}"
mkdir -p instance

free_port() {  # first free TCP port on 127.0.0.1 at or after $1
  python - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
while True:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port)); print(port); break
        except OSError:
            port += 1
PY
}

processes="web worker"
if [ -z "${MEILI_URL:-}" ]; then
  export MEILI_BIN; MEILI_BIN="$(scripts/get-meilisearch.sh)"
  export MEILI_PORT; MEILI_PORT="$(free_port 7700)"
  export MEILI_URL="http://127.0.0.1:$MEILI_PORT"
  export MEILI_MASTER_KEY="${MEILI_MASTER_KEY:-development-master-key-0123456789}"
  processes="web worker search"
fi

flask db upgrade
flask demo-load
echo
echo "Agency Portal: $BASE_URL   (Ctrl-C stops everything)"
echo "Sign-in pages: $BASE_URL/northwind/login  ·  $BASE_URL/bluepeak/login  ·  staff: $BASE_URL/login"
echo "Development mail viewer: $BASE_URL/dev/mail    Health: $BASE_URL/healthz"
echo "Demo sign-in links:"
flask demo-links
echo
exec honcho start $processes
