#!/usr/bin/env bash
# The `search` Procfile process: a local Meilisearch for development (data in instance/meili).
set -euo pipefail
: "${MEILI_BIN:?run through make run}" "${MEILI_PORT:?run through make run}"
mkdir -p instance/meili
exec "$MEILI_BIN" --http-addr "127.0.0.1:$MEILI_PORT" --master-key "$MEILI_MASTER_KEY" \
  --db-path instance/meili/data.ms --dump-dir instance/meili/dumps --snapshot-dir instance/meili/snapshots \
  --env development --no-analytics --log-level WARN
