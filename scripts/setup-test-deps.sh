#!/usr/bin/env bash
# Installs what the integration tests and the demo need besides npm packages:
# Debian's mosquitto, sshd/ssh, tinyproxy, the AWS CLI and openssl, and moto
# (the AWS emulator, in server mode) in the project virtualenv .venv/.
# Idempotent, quiet and non-interactive; starts no service (the test fixtures
# start mosquitto and sshd themselves, on free loopback ports).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
moto_version="5.2.5"

apt_packages=(mosquitto mosquitto-clients openssh-server openssh-client tinyproxy awscli openssl python3)
# `python3 -m venv` needs ensurepip, which Debian ships in python3-venv.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_packages+=(python3-venv)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-test-deps: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup-test-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt cannot find what it needs.
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

venv="$root/.venv"
installed_moto() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true
}
# A venv whose interpreter has gone (e.g. made by another python) is made anew.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  python3 -m venv --clear "$venv"
fi
if [ "$(installed_moto)" != "$moto_version" ] || [ ! -x "$venv/bin/moto_server" ]; then
  echo "setup-test-deps: installing moto[server]==$moto_version into .venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi
