#!/bin/sh
# Debian's chromium, for the browser check of the connection forms
# (tests/deployment/test_connection_forms_ui.py). Installed with apt-get when
# /usr/bin/chromium is missing and we are root or may use sudo; otherwise this
# says so and the browser test fails with the same advice.
set -u
CHROMIUM=/usr/bin/chromium
if [ -n "${DOCSTATUS_CHROMIUM:-}" ] || [ -x "$CHROMIUM" ]; then
    exit 0
fi
advice="install Debian's chromium (apt-get install --no-install-recommends chromium) or set DOCSTATUS_CHROMIUM; until then the browser test fails"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: $CHROMIUM is missing and there is no apt-get here: $advice" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    echo "note: $CHROMIUM is missing and installing it needs root or sudo: $advice" >&2
    exit 0
fi
echo "installing Debian's chromium for the browser check of the connection forms"
if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
    echo "note: installing chromium failed: $advice" >&2
fi
exit 0
