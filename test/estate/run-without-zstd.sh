#!/usr/bin/env bash
# npm run test:nozstd: builds (once, into .lux/nozstd) a node-rdkafka whose librdkafka lacks zstd, and runs the codec-failure tests against it.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="${LUX_NOZSTD_DIR:-$PWD/.lux/nozstd}"
RDK="$DIR/node_modules/node-rdkafka"
if ! node -e "process.exit(require('$RDK').features.includes('zstd') ? 1 : 0)" 2>/dev/null; then
  echo "building node-rdkafka without zstd into $DIR (a few minutes)…"
  rm -rf "$DIR" && mkdir -p "$DIR/node_modules"
  cp -a node_modules/{node-rdkafka,bindings,file-uri-to-path,nan} "$DIR/node_modules/"
  sed -i 's|./configure --prefix=|./configure --disable-zstd --prefix=|' "$RDK/util/configure.js"
  (cd "$RDK" && rm -rf build && npx --yes node-gyp rebuild >/dev/null)
fi
node -e "const f = require('$RDK').features; if (f.includes('zstd')) { console.error('still built with zstd'); process.exit(1); } console.log('without zstd: ' + f.join(','))"
NODE_RDKAFKA_WITHOUT_ZSTD="$RDK" npx vitest run test/estate/codec-failure.test.ts "$@"
