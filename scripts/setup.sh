#!/usr/bin/env bash
# Installs what cloister needs from Debian's packages, only where something is missing.
# usage: scripts/setup.sh [build|test]   (test adds what the test suite uses)
set -euo pipefail
what=${1:-build}
pkgs=(cmake make clang libseccomp-dev libcap-dev pkg-config)
if [ "$what" = test ]; then
  pkgs+=(libclang-rt-14-dev libcmocka-dev afl++ libcapstone-dev gcc-multilib python3 qemu-system-x86)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages and not root: run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
