#!/usr/bin/env bash
# Installs what the integration tests and the demo need besides npm packages:
# Debian's mosquitto, sshd/ssh, tinyproxy, microsocks (SOCKS5), the AWS CLI and openssl, and moto
# (the AWS emulator, in server mode) with the botocore it validates against in
# the project virtualenv .venv/; Debian's Java 17 and Maven, and with them the
# Apache Kafka broker's jars from Maven Central into .cache/kafka/<version>/libs.
# Idempotent, quiet and non-interactive; starts no service (the test fixtures
# start mosquitto, sshd and Kafka themselves, on free loopback ports).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
moto_version="5.2.5"
# The stand-in reads REST routes and regions from botocore's models: pinned with moto.
botocore_version="1.44.8"
# Kept in step with test/support/kafka/pom.xml and test/support/kafka/index.ts.
kafka_version="4.1.2"

apt_packages=(mosquitto mosquitto-clients openssh-server openssh-client tinyproxy microsocks awscli openssl python3 maven)
# Kafka 4.x brokers need Java 17 or later.
if ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
  apt_packages+=(openjdk-17-jre-headless)
fi
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
installed_version() {
  "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true
}
# A venv whose interpreter has gone (e.g. made by another python) is made anew.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  python3 -m venv --clear "$venv"
fi
if [ "$(installed_version moto)" != "$moto_version" ] || [ "$(installed_version botocore)" != "$botocore_version" ] || [ ! -x "$venv/bin/moto_server" ]; then
  echo "setup-test-deps: installing moto[server]==$moto_version botocore==$botocore_version into .venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$moto_version" "botocore==$botocore_version"
fi

# The Kafka broker's jars, from Maven Central only (the pom lists the broker and
# its Log4j 2 binding; Maven resolves the rest). Written to a temporary folder
# and renamed, so an interrupted fetch never leaves a half-filled libs/.
kafka_dir="$root/.cache/kafka/$kafka_version"
if [ ! -f "$kafka_dir/libs/kafka_2.13-$kafka_version.jar" ]; then
  echo "setup-test-deps: fetching Apache Kafka $kafka_version jars from Maven Central into .cache/kafka" >&2
  mkdir -p "$kafka_dir"
  staging="$(mktemp -d "$kafka_dir/libs.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  # Maven's output is shown only when it fails.
  if ! mvn_output="$(mvn --batch-mode --quiet --no-transfer-progress -Dstyle.color=never \
    -f "$root/test/support/kafka/pom.xml" \
    -Dkafka.version="$kafka_version" \
    -Dmaven.repo.local="$root/.cache/kafka/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging" 2>&1)"; then
    echo "$mvn_output" >&2
    exit 1
  fi
  rm -rf "$kafka_dir/libs"
  mv "$staging" "$kafka_dir/libs"
  trap - EXIT
fi
