#!/usr/bin/env bash
# Chromium for the browser tests. Playwright's own browser download does not work on every machine, so a
# /usr/bin/chromium is used when there is one, and as root with apt-get Debian's is installed when it is missing;
# elsewhere (a laptop) Playwright's browser is installed, which the tests use when /usr/bin/chromium is absent.
# GitHub's ubuntu images do ship a /usr/bin/chromium, so this script does nothing there: ci.yml installs
# Playwright's version-matched browser itself and sets CHROMIUM=playwright (no such path) to make the tests use it.
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
