#!/usr/bin/env bash
# The `search` Procfile process under `make run`: ties the Meilisearch that scripts/run.sh started
# (on a port it could really bind) to honcho, so one stopping stops the other.
set -uo pipefail
: "${MEILI_PID:?run through make run}"
alive() { local state; state=$(ps -o stat= -p "$MEILI_PID" 2>/dev/null) && [[ $state != Z* ]]; }  # a zombie has exited
stop() {
  kill "$MEILI_PID" 2>/dev/null
  for _ in $(seq 50); do alive || exit 0; sleep 0.1; done
  kill -9 "$MEILI_PID" 2>/dev/null
  exit 0
}
trap stop TERM INT
echo "Meilisearch (pid $MEILI_PID) serving $MEILI_URL"
while alive; do sleep 1 & wait $!; done
echo "Meilisearch stopped; see $MEILI_DIR/meili.log" >&2
exit 1
