#!/usr/bin/env bash
# Makes sure Debian's chromium is installed: the HTML report's browser test
# (internal/htmlreport, TestHTMLBrowser) opens every report kind in headless
# Chromium. Installs it with apt-get where that is possible (root on
# Debian), else says how and exits 1.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "browser.sh: installing chromium for the HTML report's browser test" >&2
  if apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "browser.sh: apt-get install chromium failed" >&2
  exit 1
fi
echo "browser.sh: chromium is missing; install it (Debian: apt-get install -y chromium) for the HTML report's browser test" >&2
exit 1
