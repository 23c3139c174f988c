#!/bin/sh
# Debian's redis-server, the Celery broker of the distributed deployment test
# (tests/deployment/test_distributed.py). Installed with apt-get when
# redis-server is missing and we are root or may use sudo; otherwise this says
# so and the distributed test fails (in CI) with the same advice.
# PostgreSQL, the other service that test needs, comes with the machine (Debian's postgresql-15).
set -u
if [ -n "${DOCSTATUS_REDIS_SERVER:-}" ] || command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
    exit 0
fi
advice="install Debian's redis-server (apt-get install --no-install-recommends redis-server) or set DOCSTATUS_REDIS_SERVER; until then the distributed deployment test fails"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: redis-server is missing and there is no apt-get here: $advice" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    echo "note: redis-server is missing and installing it needs root or sudo: $advice" >&2
    exit 0
fi
echo "installing Debian's redis-server for the distributed deployment test (the Celery broker)"
# policy-rc.d 101: the package must not start a system-wide redis; the test starts its own on a free port.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
    if printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"; then
        made_policy=1
    fi
fi
if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }; then
    echo "note: installing redis-server failed: $advice" >&2
fi
if [ -n "$made_policy" ]; then
    $sudo rm -f "$policy"
fi
exit 0
