#!/usr/bin/env bash
# Runs the libFuzzer targets one after the other (never two fuzzer processes at once) and prints
# per target: executions, coverage (cov = edges, ft = features, from libFuzzer's final stats
# line), corpus size, exec/s and findings. Exits non-zero if any target found a crash, leak,
# UBSan report, timeout or out-of-memory.
#
#   fuzz/run.sh [--runs N | --seconds S] [--nice K] [target...]
#     --runs N      stop each target after N executions (default 1000000)
#     --seconds S   stop each target after S seconds instead
#     --nice K      niceness of the fuzzer processes (default 15: the machine is shared)
#     target        names as in fuzz/CMakeLists.txt (default: all)
# Environment: FUZZ_BUILD_DIR (default build/fuzz), FUZZ_RSS_MB (default 2048),
# FUZZ_TIMEOUT (seconds per input, default 10), FUZZ_EXTRA (more libFuzzer flags).
# Corpora live in $FUZZ_BUILD_DIR/corpus/<target> (fuzz/make_corpora.sh seeds them); findings go
# to $FUZZ_BUILD_DIR/artifacts/<target>/ and logs to $FUZZ_BUILD_DIR/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=(safetensors torch_checkpoint unpickler zip_directory neox_config tokenizer indexed_dataset
     task_data results memorization_journal memorization_file)
limit=(-runs=1000000)
limit_text="1000000 runs"
niceness=15
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) limit=(-runs="$2"); limit_text="$2 runs"; shift 2 ;;
    --seconds) limit=(-max_total_time="$2"); limit_text="$2 s"; shift 2 ;;
    --nice) niceness="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
B=${FUZZ_BUILD_DIR:-build/fuzz}

if ! command -v clang++ >/dev/null; then
  echo "run.sh: clang++ not found: apt-get install clang libclang-rt-dev (fuzz/README.md)" >&2
  exit 2
fi
[ -f "$B/build.ninja" ] || cmake --preset fuzz >/dev/null
nice -n "$niceness" cmake --build "$B" --target $(printf 'fuzz_%s ' "${targets[@]}") -j 2 >/dev/null
[ -d "$B/corpus" ] || bash fuzz/make_corpora.sh >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$B/logs"
summary="$B/logs/summary.txt"
printf '%-17s %10s %7s %7s %12s %8s %s\n' target execs cov ft corpus exec/s findings | tee "$summary"
status=0
for t in "${targets[@]}"; do
  art="$B/artifacts/$t"
  mkdir -p "$art" "$B/corpus/$t"
  before=$(ls "$art" | wc -l)
  log="$B/logs/$t.log"
  rc=0
  # shellcheck disable=SC2086
  nice -n "$niceness" "$B/fuzz/fuzz_$t" "${limit[@]}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
    -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 -artifact_prefix="$art/" \
    ${FUZZ_EXTRA:-} "$B/corpus/$t" >"$log" 2>&1 || rc=$?
  after=$(ls "$art" | wc -l)
  found=$((after - before))
  final=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  cov=$(echo "$final" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || true)
  ft=$(echo "$final" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || true)
  corp=$(echo "$final" | grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' | cut -d' ' -f2 || true)
  eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  verdict="0"
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    verdict="$found new artifact(s), exit $rc: $(grep -m1 -E 'ERROR: |runtime error|terminate called' "$log" || true)"
    status=1
  fi
  printf '%-17s %10s %7s %7s %12s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "${eps:-?}" "$verdict" | tee -a "$summary"
done
echo "($limit_text per target; logs and summary in $B/logs, findings in $B/artifacts)"
exit $status
