#!/usr/bin/env bash
# The main command: builds cloister and runs the default VM.
# Until the Linux guest boots (issue 5), the default guest is the project's own test guest
# (tests/guests/hello.S, a Multiboot kernel): it runs through the whole pipeline and halts.
# Then a second VM is brought up and the isolation audit of its live processes is printed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" build
export CLOISTER_BUILD=${CLOISTER_BUILD:-$top/build/run}
"$top/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release -DCLOISTER_TESTS=OFF -DCLOISTER_SANITIZE=OFF
bin=$CLOISTER_BUILD/bin
echo "== the test guest"
"$bin/cloister" run --kernel "$CLOISTER_BUILD/guests/hello.elf" --append "console=ttyS0" "$@"
echo
echo "== a live VM and its isolation audit"
sock=$(mktemp -u /tmp/cloister-XXXXXX.sock)
"$bin/cloister" run --api-socket "$sock" &
vm=$!
trap 'kill $vm 2>/dev/null; wait $vm 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  "$bin/cloister" api --api-socket "$sock" query-status 2>/dev/null | grep -q '"running"' && break
  sleep 0.1
done
"$bin/cloister" api --api-socket "$sock" query-status
echo
audit=0
"$bin/cloister" audit --api-socket "$sock" || audit=$?
"$bin/cloister" api --api-socket "$sock" quit >/dev/null
status=0
wait $vm || status=$?
trap - EXIT
echo "cloister exited with status $status; audit status $audit"
exit $(( status || audit ))
