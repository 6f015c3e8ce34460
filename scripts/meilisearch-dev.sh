#!/usr/bin/env bash
# The `search` Procfile process under `make run`: ties the Meilisearch that scripts/run.sh started
# (on a port it could really bind) to honcho, so one stopping stops the other.
set -euo pipefail
: "${MEILI_PID:?run through make run}"
trap 'kill "$MEILI_PID" 2>/dev/null; exit 0' TERM INT
echo "Meilisearch (pid $MEILI_PID) serving $MEILI_URL"
alive() { local state; state=$(ps -o stat= -p "$MEILI_PID" 2>/dev/null) && [[ $state != Z* ]]; }  # a zombie has exited
while alive; do sleep 1 & wait $!; done
echo "Meilisearch stopped; see $MEILI_DIR/meili.log" >&2
exit 1
