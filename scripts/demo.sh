#!/usr/bin/env bash
# The README's demo: installs what it needs (Node >= 22, npm packages, moto in
# .venv), builds the CLI, starts the embedded two-account local AWS and runs
# the iotctl flow against it, showing each command and its output.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
bash scripts/setup-test-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
exec node scripts/demo.ts
