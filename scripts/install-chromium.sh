#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (test/web) and the screenshots script, when it
# is missing: playwright's own browser download is not used, the distribution's package is.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "chromium is missing: installing Debian's package"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version
