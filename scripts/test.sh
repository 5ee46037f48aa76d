#!/usr/bin/env bash
# The test command: installs what the tests need, builds everything (sanitized libraries and
# tests, libFuzzer harnesses, the real sandboxed binaries), runs every ctest case: unit tests,
# the sandbox end-to-end tests, bounded fuzz runs on each seed corpus with the regression
# replays, the registry check, and benchmark smoke runs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" test
export CLOISTER_BUILD=${CLOISTER_BUILD:-$top/build/test}
# The default Linux guest (Debian's i686 kernel + busybox initramfs) for the tests that use it.
# A failure here (a mirror mid-sync, say) must not hide the other results: those tests then
# report themselves as skipped, by name, in ctest's summary.
"$top/scripts/build-guest.sh" || echo "test: building the default guest failed; its tests will be skipped" >&2
"$top/scripts/build.sh" -DCMAKE_BUILD_TYPE=Debug -DCLOISTER_TESTS=ON
cd "$CLOISTER_BUILD"
ctest --output-on-failure -j "$(nproc)" --timeout 900
