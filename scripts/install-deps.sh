#!/usr/bin/env bash
# Installs the Debian packages iamd needs to build, run and test.
# Idempotent: installs only what is missing. Must run as root (or via sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang
  libmicrohttpd-dev libgnutls28-dev libjansson-dev libssl-dev libsodium-dev
  libsqlite3-dev sqlite3 libpq-dev libcurl4-openssl-dev libcmocka-dev
  nodejs npm wrk jq curl
  chromium postgresql libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine whose node/npm come from elsewhere (e.g. nodesource) needs no Debian nodejs/npm.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
else
  SUDO=
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
