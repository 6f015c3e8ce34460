#!/usr/bin/env bash
# Make sure a headless Chromium exists for the browser tests (Debian's package; never a download
# by Playwright). CHROMIUM_PATH overrides the location.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$path" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing Debian chromium for the browser tests ..." >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  [ -x "$path" ] && exit 0
fi
echo "No Chromium at $path. Install chromium (or set CHROMIUM_PATH) and run again." >&2
exit 1
