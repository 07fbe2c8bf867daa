#!/usr/bin/env bash
# Runs the libFuzzer harnesses (fuzz/) built in BUILD (default build-fuzz: the clang build with
# AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer that scripts/test.sh makes), each
# for SECONDS (default 30), KILN_FUZZ_JOBS (default 2) at a time. Each runs every input that
# once failed (fuzz/regressions/NAME), then fuzzes from its seed corpus (fuzz/corpus/NAME) and
# what earlier runs kept (BUILD/fuzz-corpus/NAME). A crash, a sanitizer report, a leak, an input
# that takes over 10 s or a single allocation over 2 GiB fails the run; the input is saved as
# BUILD/fuzz-artifacts/NAME-*, and the end of the harness's log is printed.
#   scripts/fuzz.sh [SECONDS [HARNESS...]]     e.g. scripts/fuzz.sh 1200 idx png
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
build=${KILN_FUZZ_BUILD:-build-fuzz}
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  mapfile -t harnesses < <(find fuzz -maxdepth 1 -name '*_fuzz.cpp' -printf '%f\n' | sed 's/_fuzz\.cpp$//' | sort)
fi
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {
  local name=$1 log="$build/fuzz-logs/$1.log"
  mkdir -p "$build/fuzz-corpus/$name"
  local dirs=("$build/fuzz-corpus/$name" "fuzz/corpus/$name")
  [[ -d "fuzz/regressions/$name" ]] && dirs+=("fuzz/regressions/$name")
  if "$build/fuzz/${name}_fuzz" "${dirs[@]}" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$name-" >"$log" 2>&1; then
    # The last status line (executions, coverage, corpus) and the run's totals.
    echo "$name: $(grep -E '^#[0-9]+' "$log" | tail -1 | tr -s ' ') | $(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}') executions"
  else
    echo "$name: FAILED (log: $log)"
    tail -60 "$log"
    return 1
  fi
}
export -f run_one
export build seconds
printf '%s\n' "${harnesses[@]}" | xargs -P "${KILN_FUZZ_JOBS:-2}" -I{} bash -c 'run_one {}'
