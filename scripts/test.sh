#!/usr/bin/env bash
# Install everything the tests need (Debian packages included) into a fresh virtual
# environment built from pyproject.toml, start PostgreSQL on loopback, run lint, the
# dependency check, types and the whole suite. The README's second quickstart command;
# .ci/run calls it.
#
# The environment is rebuilt on every run and never sees the system's site-packages, so
# a package installed by hand on this machine cannot hide one that pyproject.toml lacks.
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

VENV="${LIGHTKEEPER_TEST_VENV:-.venv-test}"
echo "== building a fresh virtual environment in $VENV from pyproject.toml"
rm -rf "$VENV"
python3 -m venv "$VENV"
# uv installs the same packages as pip, several times faster; it lives inside the venv.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check uv
export UV_NATIVE_TLS=1 # trust the system's certificate store, like pip
# Bytecode compiled once here, as pip does: the suite starts many Python processes (CLI,
# gate workers, servers), and with PYTHONDONTWRITEBYTECODE set each would compile MLflow.
"$VENV/bin/python" -m uv pip install -q --compile-bytecode --python "$VENV/bin/python" -e ".[dev]"
"$VENV/bin/python" -m compileall -q src
export PATH="$PWD/$VENV/bin:$PATH"
PY="$PWD/$VENV/bin/python"

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
"$PY" -m ruff check src tests examples bench scripts
"$PY" -m ruff format --check src tests examples bench scripts
echo "== dependencies: every import under src/ is declared in pyproject.toml"
"$PY" -m deptry src
echo "== layers: nothing imports upwards, features do not import each other"
"$(dirname "$PY")/lint-imports"
"$PY" -m mypy

echo "== tests"
# The 15 slowest tests are listed at the end, so a test that turns slow shows in every run.
# One worker per core; a file's tests stay on one worker, so its session workspaces are built once.
"$PY" -m pytest -n auto --dist loadfile --durations=15 "$@"
