# Sourced by demo.sh and test.sh: Node >= 22 on PATH, the Debian packages and
# moto in .venv, npm packages (when the lock file changed), and a fresh build.
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
bash "$iotctl_root/scripts/setup-test-deps.sh"
if [ ! -d "$iotctl_root/node_modules" ] || [ "$iotctl_root/package-lock.json" -nt "$iotctl_root/node_modules/.package-lock.json" ]; then
  (cd "$iotctl_root" && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd "$iotctl_root" && npm run --silent build)
