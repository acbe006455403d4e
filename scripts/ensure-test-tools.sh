#!/usr/bin/env bash
# Tools the test suite needs beyond Python: headless Chromium (browser tests) and Node.js
# (the openid-client interoperability test). Installs Chromium from Debian when missing
# and we may (root + apt-get); otherwise says what to install and fails.
set -euo pipefail

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver for the browser tests …" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "the browser tests need /usr/bin/chromium and /usr/bin/chromedriver (Debian: apt-get install chromium chromium-driver)" >&2
    exit 1
  fi
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "the interoperability test needs Node.js 20+ and npm" >&2
  exit 1
fi
