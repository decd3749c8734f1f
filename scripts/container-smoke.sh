#!/usr/bin/env bash
# The image's build and run steps (see Dockerfile), performed in a clean temporary folder, for
# machines without a Docker engine: the build context as .dockerignore leaves it, production install
# from the lock file, start beside the sandbox as its own process (the compose quick start), health
# and readiness checks, one sandbox charge, the journal CLI as an operator runs it in the container,
# graceful stop. Exits non-zero with the reason on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
sandbox_pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [ -n "$sandbox_pid" ]; then kill -KILL "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "container smoke: FAILED: $*" >&2
  [ -f "$work/service.log" ] && tail -n 20 "$work/service.log" >&2
  exit 1
}

context="$work/context"
build="$work/build"
run="$work/run"
data="$work/data"
mkdir -p "$context" "$build" "$run" "$data"

# What docker build sees: only the files the Dockerfile's COPY instructions take, less what
# .dockerignore excludes. A COPY source that is missing or excluded fails here as it fails there.
echo "build context: the Dockerfile's COPY sources, .dockerignore applied"
node "$repo/docker/build-context.js" "$repo" "$context" || fail "build context"

echo "build stage: npm ci from the lock file, compile, prune to production dependencies"
cp "$context/package.json" "$context/package-lock.json" "$build/"
(cd "$build" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci"
cp "$context/tsconfig.json" "$context/tsconfig.build.json" "$build/"
cp -R "$context/src" "$build/src"
(cd "$build" && npm run build --silent && npm prune --omit=dev --loglevel=error) || fail "build"

echo "run stage: production dependencies, compiled code and mappings only"
cp -R "$build/node_modules" "$build/dist" "$run/"
cp "$context/package.json" "$run/"
cp -R "$context/mappings" "$run/mappings"
for dev in jest typescript supertest @swc/core autocannon; do
  [ ! -e "$run/node_modules/$dev" ] || fail "the run stage holds the dev dependency $dev"
done
[ ! -e "$run/test" ] || fail "the run stage holds tests"
[ ! -e "$run/src" ] || fail "the run stage holds the TypeScript sources"
for tool in dist/bench dist/simulator dist/cli/bench-journal.js; do
  [ ! -e "$run/$tool" ] || fail "the run stage holds the developer tool $tool"
done

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}
node_options=$(sed -n 's/^ *NODE_OPTIONS="\([^"]*\)".*/\1/p' "$repo/Dockerfile")

# The compose quick start: the sandbox gateway is a process of its own (the "sandbox" service) and
# the service reaches it through GATEWAY_URL_PAYCONEX, so the embedded sandbox does not start.
sandbox_port=$(free_port)
echo "sandbox gateway on its own (the compose sandbox service) on port $sandbox_port"
(cd "$run" && exec env -i PATH="$PATH" NODE_ENV=production SANDBOX_HOST=127.0.0.1 SANDBOX_PORT="$sandbox_port" \
  node dist/sandbox/main.js >"$work/sandbox.log" 2>&1) &
sandbox_pid=$!

port=$(free_port)
service_env=(env -i PATH="$PATH" NODE_ENV=production NODE_OPTIONS="$node_options" DATA_DIR="$data")
(cd "$run" && exec "${service_env[@]}" HOST=127.0.0.1 PORT="$port" GATEWAY_ENV=sandbox \
  GATEWAY_URL_PAYCONEX="http://127.0.0.1:$sandbox_port/api/qsapi/3.8" \
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

echo "readiness: the outside sandbox is checked, by connector name only"
ready=""
for _ in $(seq 1 20); do
  readiness=$(curl -sS "http://127.0.0.1:$port/readyz" || true)
  if [ "$readiness" = '{"status":"ready","checks":{"mappings":"ok","journal":"ok","gateway:payconex":"ok"}}' ]; then
    ready=yes
    break
  fi
  sleep 0.5
done
[ -n "$ready" ] || fail "unexpected /readyz answer: $readiness"

echo "one sandbox charge"
answer=$(curl -sS -u 123456789012:0123456789abcdefABCDEF9876543210 "http://127.0.0.1:$port/" \
  -d '{"method":"charge","transaction_id":"container-smoke-1","cardnumber":"4111111111111111","expiry_month":"12","expiry_year":"30","amount":"10.00"}')
echo "$answer" | grep -Eq '^\{"charge_id":"[0-9]{12}","error_code":null,"error_message":null\}$' || fail "unexpected answer: $answer"

# In the container: docker compose exec bridge node dist/cli/journal.js ... (no tsc there, so not npm run).
echo "journal CLI, as in the container, while the service runs"
listed=$(cd "$run" && "${service_env[@]}" node dist/cli/journal.js list --transaction-id container-smoke-1 --format csv) || fail "node dist/cli/journal.js list"
echo "$listed" | grep -q '^[^,]*,container-smoke-1,payconex,123456789012,approved,charge,card,10.00,' || fail "the journal CLI did not list the charge: $listed"

echo "graceful stop (SIGTERM)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "the service exited $status after SIGTERM"
kill -TERM "$sandbox_pid"
wait "$sandbox_pid" || true
sandbox_pid=""
[ -s "$data/journal.sqlite" ] || fail "no journal in DATA_DIR"
grep -q '"message":"stopped"' "$work/service.log" || fail "the service did not log its stop"

echo "container smoke: ok"
