#!/usr/bin/env bash
# Install everything the tests need (Debian packages included), start PostgreSQL on
# loopback, run the whole suite. The README's second quickstart command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "== installing PostgreSQL (Debian packages)"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

echo "== installing lightkeeper with its test dependencies"
python3 -m pip install -q --disable-pip-version-check -e ".[dev]"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PGPORT="${LIGHTKEEPER_TEST_PGPORT:-55432}"
PGDATA="$(mktemp -d /tmp/lightkeeper-pg.XXXXXX)"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PGDATA"
    RUNAS=(runuser -u postgres --)
fi
stop_pg() {
    "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
}
trap stop_pg EXIT
echo "== starting PostgreSQL on 127.0.0.1:$PGPORT"
"${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$PGDATA/server.log" \
    -o "-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
export LIGHTKEEPER_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"

echo "== lint"
python3 -m ruff check src tests examples bench scripts
python3 -m ruff format --check src tests examples bench scripts
python3 -m mypy

echo "== tests"
python3 -m pytest "$@"
