#!/usr/bin/env bash
# The README's demo: installs what it needs (Node >= 22, npm packages, moto in
# .venv), builds the CLI, starts the embedded two-account local AWS and runs
# the iotctl flow against it, showing each command and its output.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prepare.sh
exec node scripts/demo.ts
