#!/usr/bin/env bash
# Runs the workspace's tests as `cargo test --workspace` does, but several test binaries at a time:
# most end-to-end binaries spend their time waiting for a control plane or a webhook, so running
# them one after another leaves the machine idle. Each binary still runs alone in its own process,
# so the control planes its tests share stay its own. Then the doc tests.
#
#   scripts/run-tests.sh   KKP_TEST_JOBS binaries at once (default 3), each stopped after
#                          KKP_TEST_TIMEOUT seconds (default 1800)
#
# Prints a line per binary; the output of a binary that fails or hangs is printed in full, and
# every binary's output is kept in target/test-logs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs="${KKP_TEST_JOBS:-3}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run-tests: KKP_TEST_JOBS=$jobs is not a positive number" >&2; exit 2; }
limit="${KKP_TEST_TIMEOUT:-1800}"
[[ "$limit" =~ ^[1-9][0-9]*$ ]] || { echo "run-tests: KKP_TEST_TIMEOUT=$limit is not a number of seconds" >&2; exit 2; }
target_dir="${CARGO_TARGET_DIR:-target}"
logs="$target_dir/test-logs"
rm -rf "$logs"
mkdir -p "$logs"

# The test binaries, from cargo's own list of what it built: package folder, target name, path.
artifacts="$logs/artifacts.json"
cargo test --workspace --locked --no-run --message-format=json-render-diagnostics >"$artifacts"
list="$logs/binaries.txt"
# (A test build has "test":true at the end of its profile; the target's own "test" flag only says
# that it could be tested.)
grep '"reason":"compiler-artifact"' "$artifacts" | grep -E '"overflow_checks":[a-z]+,"test":true\}' |
  grep -v '"executable":null' |
  sed -n 's/.*"manifest_path":"\([^"]*\)\/Cargo.toml".*"target":{[^}]*"name":"\([^"]*\)".*"executable":"\([^"]*\)".*/\1\t\2\t\3/p' \
    >"$list.all"
[[ -s "$list.all" ]] || { echo "run-tests: cargo built no test binaries (see $artifacts)" >&2; exit 1; }
# The slowest first, so that they do not end up running alone at the end.
slow="plugin_e2e control_plane kkp_api_e2e certificate_rotation hostile plugin_install demo platform_e2e"
: >"$list"
for name in $slow; do
  awk -F'\t' -v n="$name" '$2 == n' "$list.all" >>"$list"
done
awk -F'\t' -v slow=" $slow " 'index(slow, " " $2 " ") == 0' "$list.all" >>"$list"

# Runs one binary from its package folder, as cargo does; records its result. (No errexit in
# here: a binary that hangs or crashes prints no summary, and that must still be reported.)
run_one() {
  set +e
  local dir="$1" name="$2" exe="$3" package log start rc summary
  package="$(basename "$dir")"
  log="$logs/$package.$name.log"
  start=$(date +%s)
  rc=0
  (cd "$dir" && CARGO_MANIFEST_DIR="$dir" CARGO="${CARGO:-cargo}" timeout --kill-after=30 "$limit" "$exe") \
    >"$log" 2>&1 || rc=$?
  summary="$(grep -h '^test result:' "$log" | tail -n 1 | sed 's/^test result: //; s/; [0-9]* measured.*//')"
  [[ -n "$summary" ]] || summary="no test summary (crashed?)"
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    summary="stopped after ${limit}s (KKP_TEST_TIMEOUT); see which test was running below"
  fi
  if [[ $rc -eq 0 ]]; then
    printf 'ok      %-34s %s (%ss)\n' "$package/$name" "$summary" "$(($(date +%s) - start))"
    touch "$log.ok"
  else
    printf 'FAILED  %-34s %s (exit %s, %ss)\n' "$package/$name" "$summary" "$rc" "$(($(date +%s) - start))"
    touch "$log.failed"
  fi
}

run_doc_tests() {
  set +e
  local log="$logs/doc-tests.log" start rc=0
  start=$(date +%s)
  cargo test --workspace --locked --doc >"$log" 2>&1 || rc=$?
  if [[ $rc -eq 0 ]]; then
    printf 'ok      %-34s (%ss)\n' "doc tests" "$(($(date +%s) - start))"
    touch "$log.ok"
  else
    printf 'FAILED  %-34s (exit %s)\n' "doc tests" "$rc"
    touch "$log.failed"
  fi
}

start=$(date +%s)
echo "run-tests: $(wc -l <"$list") test binaries, $jobs at a time (output in $logs)" >&2
while IFS=$'\t' read -r dir name exe; do
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
    wait -n || true
  done
  run_one "$dir" "$name" "$exe" &
done <"$list"
run_doc_tests &
wait

# Every binary reports ok or FAILED; one that did neither failed in a way this script missed.
reported=$(find "$logs" -name '*.log.ok' -o -name '*.log.failed' | wc -l)
expected=$(($(wc -l <"$list") + 1))
if [[ $reported -ne $expected ]]; then
  echo "run-tests: only $reported of $expected test runs reported a result (see $logs)" >&2
  exit 1
fi
failed=("$logs"/*.failed)
if [[ -e "${failed[0]}" ]]; then
  for marker in "${failed[@]}"; do
    log="${marker%.failed}"
    echo >&2
    echo "----- $(basename "$log" .log) -----" >&2
    cat "$log" >&2
  done
  echo >&2
  echo "run-tests: ${#failed[@]} failed (their output above, every binary's in $logs), after $(($(date +%s) - start))s" >&2
  exit 1
fi
passed=$(grep -h '^test result:' "$logs"/*.log | sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p' | awk '{ s += $1 } END { print s + 0 }' || true)
echo "run-tests: $passed tests passed in $(($(date +%s) - start))s" >&2
