#!/usr/bin/env bash
# The image's build and run steps (see Dockerfile), performed in a clean temporary folder, for
# machines without a Docker engine: production install from the lock file, start, health check,
# one sandbox charge, graceful stop. Exits non-zero with the reason on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "container smoke: FAILED: $*" >&2
  [ -f "$work/service.log" ] && tail -n 20 "$work/service.log" >&2
  exit 1
}

build="$work/build"
run="$work/run"
data="$work/data"
mkdir -p "$build" "$run" "$data"

echo "build stage: npm ci from the lock file, compile, prune to production dependencies"
cp "$repo/package.json" "$repo/package-lock.json" "$build/"
(cd "$build" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci"
cp "$repo/tsconfig.json" "$repo/tsconfig.build.json" "$build/"
cp -R "$repo/src" "$build/src"
(cd "$build" && npm run build --silent && npm prune --omit=dev --loglevel=error) || fail "build"

echo "run stage: production dependencies, compiled code and mappings only"
cp -R "$build/node_modules" "$build/dist" "$run/"
cp "$repo/package.json" "$run/"
cp -R "$repo/mappings" "$run/mappings"
for dev in jest typescript supertest @swc/core; do
  [ ! -e "$run/node_modules/$dev" ] || fail "the run stage holds the dev dependency $dev"
done
[ ! -e "$run/test" ] || fail "the run stage holds tests"

port=$(node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
node_options=$(sed -n 's/^ *NODE_OPTIONS="\([^"]*\)".*/\1/p' "$repo/Dockerfile")
(cd "$run" && exec env -i PATH="$PATH" NODE_ENV=production NODE_OPTIONS="$node_options" HOST=127.0.0.1 PORT="$port" DATA_DIR="$data" \
  node --enable-source-maps dist/main.js >"$work/service.log" 2>&1) &
pid=$!

echo "health check (the image's HEALTHCHECK) on port $port"
healthy=""
for _ in $(seq 1 60); do
  if (cd "$run" && PORT="$port" node -e "require('http').get('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"); then
    healthy=yes
    break
  fi
  sleep 0.5
done
[ -n "$healthy" ] || fail "/healthz never answered 200"

echo "one sandbox charge"
answer=$(curl -sS -u 123456789012:0123456789abcdefABCDEF9876543210 "http://127.0.0.1:$port/" \
  -d '{"method":"charge","transaction_id":"container-smoke-1","cardnumber":"4111111111111111","expiry_month":"12","expiry_year":"30","amount":"10.00"}')
echo "$answer" | grep -Eq '^\{"charge_id":"[0-9]{12}","error_code":null,"error_message":null\}$' || fail "unexpected answer: $answer"

echo "graceful stop (SIGTERM)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "the service exited $status after SIGTERM"
[ -s "$data/journal.sqlite" ] || fail "no journal in DATA_DIR"
grep -q '"message":"stopped"' "$work/service.log" || fail "the service did not log its stop"

echo "container smoke: ok"
