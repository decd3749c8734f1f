# syntax=docker/dockerfile:1
# The demo image (docker compose --profile demo): the service AND the pay-session simulator, with
# a demo agent for the console. Never the production image: that one (../Dockerfile) leaves the
# simulator out through ../.dockerignore; this file's own ignore file (demo.Dockerfile.dockerignore,
# read by BuildKit instead) lets it in.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20.20.2-bookworm-slim AS run
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY mappings ./mappings
COPY templates ./templates
COPY docker/demo-connectors.json ./demo/connectors.json
# The demo agent, for a demo on one's own machine only: name "agent", password "demo-agent-password".
RUN mkdir -p /data && chown node:node /data \
  && printf 'demo-agent-password\n' | CONSOLE_USERS_FILE=/app/demo/console-users.json node dist/cli/console-user.js add agent \
  && chown node:node /app/demo/console-users.json
VOLUME ["/data"]
USER node
CMD ["node", "--enable-source-maps", "dist/main.js"]
