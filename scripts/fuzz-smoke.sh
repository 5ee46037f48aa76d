#!/usr/bin/env bash
# Bounded libFuzzer run of one harness on its seed corpus: fails on any crash, leak or timeout.
# usage: fuzz-smoke.sh HARNESS CORPUS_DIR SECONDS
set -euo pipefail
harness=$1 corpus=$2 secs=$3
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "no seed corpus at $corpus" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
# New inputs go to a scratch copy: the checked-in corpus changes only by hand.
exec "$harness" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$work/" "$work"
