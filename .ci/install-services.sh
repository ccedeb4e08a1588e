#!/usr/bin/env bash
# Installs the servers the production-shaped suite (tests/production) starts for itself:
# PostgreSQL (metadata database) and Redis (Celery broker). Debian packages; run as root.
# The distribution's own service units are not used: the suite runs its own throw-away
# instances on free loopback ports and stops them at the end.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
if ((${#need[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing ${need[*]}: run this script as root (apt-get install)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d 101: the packages' post-install must not start system-wide servers.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# PostgreSQL refuses to run as root: as root, the suite runs it as this unprivileged user.
if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi
echo "postgres: $(ls -d /usr/lib/postgresql/*/bin | tail -1); redis: $(command -v redis-server)"
