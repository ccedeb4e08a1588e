#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/browser). Playwright drives this system
# browser through `executable_path`; Playwright's own browser download is never used.
# CI runs as root; elsewhere run it with sudo.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    /usr/bin/chromium --version
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
