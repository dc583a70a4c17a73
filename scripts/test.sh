#!/usr/bin/env bash
# Installs everything the tests need on a fresh clone (Node >= 22 if the
# machine's is older, npm packages, Debian packages, moto in .venv), builds
# the CLI, typechecks and lints it, and runs the whole suite with Node's test runner.
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh test/unit    # one folder (or file globs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prepare.sh
npm run --silent typecheck
# ESLint with type-aware rules and the formatting rules (eslint.config.js); about a minute on 2 cores.
npm run --silent lint

if [ "$#" -gt 0 ]; then
  targets=()
  for target in "$@"; do
    if [ -d "$target" ]; then targets+=("$target/**/*.test.ts"); else targets+=("$target"); fi
  done
else
  # The long files first and the ~60 s of short unit files last, where they fill
  # the slot that frees first instead of leaving one file to run alone at the end.
  targets=('test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts' 'test/unit/**/*.test.ts')
fi

# Two files at a time on the 2-core machines this runs on; each integration
# file starts its own local AWS, broker or relay on free loopback ports.
exec node --test --test-concurrency=2 --test-timeout=600000 --test-reporter=spec "${targets[@]}"
