#!/usr/bin/env bash
# Runs a share of the suite once more on Node 24 (the current LTS; Node 20 is past its end of life),
# with Node taken from the npm registry's `node` package: the machine's own Node stays the default.
# The share covers what differs between Node versions: storage drivers (pg, PGlite's WASM, ioredis: the
# send suite runs on all three backends), HTTP/WebSocket/SSE servers, child processes and the command
# line. The whole storage contracts stay on the machine's Node: they test our statements, not the drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_VERSION=24.21.0
dir="${NODE24_DIR:-$HOME/.cache/stored-messages/node-$NODE_VERSION}"
if [ ! -x "$dir/node_modules/node/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION"
fi
export PATH="$dir/node_modules/node/bin:$PATH"
echo "node $(node --version)"
npx vitest run \
  test/graphql/smoke.test.ts test/graphql/send.test.ts \
  test/storage/embedded.test.ts \
  test/live/subscriptions.test.ts test/live/websocket.test.ts test/live/resume.test.ts \
  test/http/health.test.ts test/cli.test.ts test/startup-errors.test.ts "$@"
