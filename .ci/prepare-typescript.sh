#!/usr/bin/env bash
# Installs the TypeScript compiler the gates use for TypeScript apps (Node 20 cannot strip
# types itself): the npm packages typescript and @types/node, pinned, into a cache outside
# every repository ($SWARM_TYPESCRIPT, else $SWARM_GYM_CACHE/typescript, else
# ~/.cache/swarm-gym/typescript). The sandbox shows that directory read-only, so apps compile
# offline. Idempotent: a second run finds both and returns at once.
set -euo pipefail
CACHE="${SWARM_GYM_CACHE:-$HOME/.cache/swarm-gym}"
ROOT="${SWARM_TYPESCRIPT:-$CACHE/typescript}"
TYPESCRIPT=5.7.3
TYPES_NODE=20.17.10
if [ -f "$ROOT/node_modules/typescript/package.json" ] &&
   grep -q "\"version\": \"$TYPESCRIPT\"" "$ROOT/node_modules/typescript/package.json" &&
   [ -f "$ROOT/node_modules/@types/node/index.d.ts" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm is not installed: TypeScript apps will be judged inconclusive" >&2; exit 1; }
mkdir -p "$ROOT"
echo "installing typescript@$TYPESCRIPT and @types/node@$TYPES_NODE into $ROOT ..." >&2
npm install --prefix "$ROOT" --no-audit --no-fund --loglevel=error \
  "typescript@$TYPESCRIPT" "@types/node@$TYPES_NODE" >&2
