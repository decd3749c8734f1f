#!/usr/bin/env bash
# Installs (if needed) and starts Debian's PostgreSQL on loopback, creates the test role and
# database, and prints the TEST_DATABASE_URL to use. Run as root (CI and the dev machines are).
set -euo pipefail
# Only the URL goes to stdout, so that `export TEST_DATABASE_URL=$(...)` captures nothing else.
exec 3>&1 1>&2

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^${version} main$"; then
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^${version} *main .* online"; then
  # The server outlives this script, so it must hold none of our descriptors: holding fd 3 (the
  # caller's $(...) pipe) made `TEST_DATABASE_URL=$(...)` wait for the server to exit, forever.
  (
    for fd in $(ls /proc/$BASHPID/fd); do
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    exec pg_ctlcluster "$version" main start </dev/null
  )
fi

for _ in $(seq 1 30); do
  if runuser -u postgres -- pg_isready -q -h 127.0.0.1; then break; fi
  sleep 1
done

runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'paybridge') THEN
    CREATE ROLE paybridge LOGIN PASSWORD 'paybridge';
  END IF;
END $$;
SQL
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'paybridge_test'" | grep -q 1; then
  runuser -u postgres -- createdb -O paybridge paybridge_test
fi

echo "postgres://paybridge:paybridge@127.0.0.1:5432/paybridge_test" >&3
