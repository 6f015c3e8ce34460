#!/usr/bin/env bash
# Re-vendor htmx from the npm package (pinned, checksum-verified). The file is committed, so
# neither `make run` nor `make test` needs this; run it only to upgrade htmx on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="2.0.11"
SHA="d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@$VERSION" >/dev/null && tar xzf ./*.tgz)
echo "$SHA  $tmp/package/dist/htmx.min.js" | sha256sum -c --quiet -
install -m 0644 "$tmp/package/dist/htmx.min.js" "portal/static/vendor/htmx-$VERSION.min.js"
echo "portal/static/vendor/htmx-$VERSION.min.js"
