#!/usr/bin/env bash
# Configures and builds cloister with clang into build/ (or $CLOISTER_BUILD). Extra arguments
# go to cmake's configure step.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${CLOISTER_BUILD:-$top/build/dev}
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
