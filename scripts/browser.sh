#!/bin/sh
# Debian's Chromium for the console's browser test (driven by playwright-core; no browser
# download works everywhere, apt does). Installed where it is missing and apt-get may run
# (as root, or with password-less sudo); anywhere else the test is skipped and says why.
command -v chromium >/dev/null 2>&1 && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "no chromium and no apt-get: the console's browser test will be skipped"; exit 0; }
if [ "$(id -u)" = 0 ]; then as_root=""; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; else
  echo "no chromium, and apt-get needs root here: the console's browser test will be skipped"; exit 0
fi
echo "installing Debian's chromium for the console's browser test ..."
$as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null \
  || echo "installing chromium failed: the console's browser test will be skipped"
