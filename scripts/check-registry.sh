#!/usr/bin/env bash
# Registry check: every component has a policy file, fuzz harnesses with a seed corpus and a
# regression folder, and a negative seccomp test; every component the monitor can launch is in
# the registry. usage: check-registry.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
reg=$src/tests/registry/registry.txt
fail=0 checked=0
bad() { echo "registry: $*" >&2; fail=$((fail + 1)); }

# Components the monitor launches (monitor/components.c) and names (ipc/msg.c).
launched=$(grep -o '"cloister-[a-z-]*"' "$src/monitor/components.c" | tr -d '"' | sed 's/^cloister-//' | sort -u)
for c in $launched; do
  grep -qE "^$c[[:space:]]" "$reg" || bad "component $c is launched but not registered"
done
harnesses=$(cat "$src"/fuzz/*/CMakeLists.txt 2>/dev/null | grep -o 'cloister_fuzz([a-z0-9_]*' | sed 's/cloister_fuzz(//' | sort -u)
tests=$(ctest --test-dir "$build" -N 2>/dev/null | sed -n 's/.*Test *#[0-9]*: //p')
while read -r comp policy hs neg; do
  case "$comp" in ''|'#'*) continue ;; esac
  checked=$((checked + 1))
  if [ "$policy" != - ]; then
    [ -s "$src/policies/$policy" ] || bad "$comp: policies/$policy missing or empty"
  fi
  for h in ${hs//,/ }; do
    printf '%s\n' $harnesses | grep -qx "$h" || bad "$comp: no cloister_fuzz($h ...) harness"
    [ -n "$(ls -A "$src/fuzz/corpus/$h" 2>/dev/null)" ] || bad "$comp: fuzz/corpus/$h has no seeds"
    [ -d "$src/fuzz/regressions/$h" ] || bad "$comp: fuzz/regressions/$h missing"
  done
  if [ "$neg" != - ]; then
    printf '%s\n' $tests | grep -qx "$neg" || bad "$comp: negative seccomp test $neg is not a ctest case"
  fi
done < "$reg"
echo "registry: $checked entries checked, $fail problems"
[ "$fail" -eq 0 ]
