#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks need.
# Idempotent: quiet and quick when everything is already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libarchive-dev libzstd-dev libssl-dev libicu-dev nlohmann-json3-dev libcli11-dev catch2 libsqlite3-dev sqlite3
  libimage-exiftool-perl zstd openssl git
  python3 python3-jsonschema groff-base dpkg-dev zsh bash-completion
  libz-mingw-w64 mingw-w64-x86-64-dev mingw-w64-i686-dev
  clang libclang-rt-14-dev llvm
  libcurl4-openssl-dev nginx-light curl time xz-utils
  ansible-core openssh-server openssh-client chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
