#!/usr/bin/env bash
# Replays every saved regression input of one harness; an empty folder passes (nothing regressed yet).
# usage: fuzz-regress.sh HARNESS REGRESSION_DIR
set -euo pipefail
harness=$1 dir=$2
mkdir -p "$dir"
files=$(find "$dir" -type f ! -name README.md | sort)
n=$(printf '%s' "$files" | grep -c . || true)
if [ "$n" -eq 0 ]; then echo "0 regression inputs in $dir"; exit 0; fi
# shellcheck disable=SC2086
"$harness" -runs=1 $files
echo "replayed $n regression inputs"
