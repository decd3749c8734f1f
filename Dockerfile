# syntax=docker/dockerfile:1
# Build: TypeScript compiled with the dev dependencies, then pruned to production ones.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native module when no prebuilt binary can be fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# The service's code only: .dockerignore keeps the developer tools (src/bench, src/simulator,
# src/cli/bench-journal.ts) out of the context, so they are neither compiled nor shipped.
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: production dependencies, compiled code and mapping files only; no tests, no secrets.
FROM node:20.20.2-bookworm-slim AS run
# NODE_OPTIONS and MALLOC_ARENA_MAX keep the resident set near the live data (a 128 MB old
# generation, 4 MB young halves, two malloc arenas: src/bench/production.ts says what each saves
# and costs); raise them for very high concurrency.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4" \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY mappings ./mappings
COPY templates ./templates
# The SQLite journal is the only thing the service writes. The folder is given to the USER before
# VOLUME is declared: changes made after the declaration are discarded.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
# SIGTERM lets accepted requests finish (SHUTDOWN_TIMEOUT_MS, default 45 s): give it stop_grace_period 60s.
STOPSIGNAL SIGTERM
# The image has no TypeScript compiler: run the command-line tools with node, e.g. the journal
# (reconciliation): docker compose exec bridge node dist/cli/journal.js list --status unknown
CMD ["node", "--enable-source-maps", "dist/main.js"]
