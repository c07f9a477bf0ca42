#!/usr/bin/env bash
# Chromium for the browser tests. Playwright's own browser download does not work on every machine, so
# Debian's package comes first: as root with apt-get, install it when it is missing. Elsewhere (GitHub's
# runners, a laptop) fall back to Playwright's browser, which the tests use when /usr/bin/chromium is absent.
set -euo pipefail
bin=${1:-.venv/bin}
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "No /usr/bin/chromium: installing Playwright's Chromium for the browser tests"
  "$bin/playwright" install chromium
fi
