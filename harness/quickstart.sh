#!/usr/bin/env bash
# Quick start: build the Release binary, run the embedded default sweep (the bundled mini Pythia
# model, tests/fixtures/mini-pythia: eval on a task subset + the memorization scan of the bundled
# mini-pile memmap, every local checkpoint), then the demo suite (tests/fixtures/demo-pythia:
# checkpoints trained so that memorization rises with steps and duplication; memorize sweep +
# dedup-count + analyze), and write out/report.html with both.
#   bash .ci/install-deps && bash harness/quickstart.sh
# Options come from the environment: BUILD_DIR (default build/release), OUT (default out),
# JOBS (build parallelism, default: number of cores); DEMO=0 leaves the demo suite out (it adds
# about 6 s of CPU time: 26 s instead of 21 s of the whole run after the build, on 2 cores).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build/release}"
OUT="${OUT:-$ROOT/out}"
JOBS="${JOBS:-$(nproc)}"
GENERATOR=()
if command -v ninja >/dev/null 2>&1; then GENERATOR=(-G Ninja); fi

echo "== configure + build (Release) in $BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" --target pythia-harness -j "$JOBS"
BIN="$BUILD_DIR/harness/pythia-harness"

echo "== default sweep -> $OUT"
start=$(date +%s)
# The embedded default's bundled fixtures (harness/bundled_fixtures.h).
export PYTHIA_FIXTURES_DIR="$ROOT/tests/fixtures"
"$BIN" sweep --output "$OUT"
if [ "${DEMO:-1}" = "0" ]; then
  "$BIN" report "$OUT" --output "$OUT/report.html"
else
  # The demo suite (tests/fixtures/demo-pythia, trained by tests/reference/train_demo_pythia.py so
  # that the canaries get memorized): memorization sweep, duplicate counts, cross-checkpoint
  # analysis; the report then shows memorization rising with step and duplicate count.
  echo "== demo: memorization of tests/fixtures/demo-pythia -> $OUT"
  "$BIN" sweep --model "$ROOT/tests/fixtures/demo-pythia" --revisions all --no-eval --memorize \
      --data "$ROOT/tests/fixtures/mini-pile/document" --sequences-per-step 16 --output "$OUT"
  "$BIN" dedup-count --data "$ROOT/tests/fixtures/mini-pile/document" --output "$OUT/dedup"
  "$BIN" analyze "$OUT" --output "$OUT/analysis.json" --dedup-counts "$OUT/dedup/dedup_counts.csv.gz"
  "$BIN" report "$OUT" --output "$OUT/report.html"
fi
end=$(date +%s)
echo "== done in $((end - start)) s: open $OUT/report.html"
echo "   regression check against the committed baseline:"
echo "   $BIN compare $ROOT/results/baseline $OUT"
