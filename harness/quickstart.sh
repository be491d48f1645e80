#!/usr/bin/env bash
# Quick start: build the Release binary, run the embedded default sweep (the bundled mini Pythia
# model, tests/fixtures/mini-pythia: eval on a task subset + the memorization scan of the bundled
# mini-pile memmap, every local checkpoint), and write out/report.html.
#   bash .ci/install-deps && bash harness/quickstart.sh
# Options come from the environment: BUILD_DIR (default build/release), OUT (default out),
# JOBS (build parallelism, default: number of cores).
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
"$BIN" report "$OUT" --output "$OUT/report.html"
end=$(date +%s)
echo "== done in $((end - start)) s: open $OUT/report.html"
echo "   regression check against the committed baseline:"
echo "   $BIN compare $ROOT/results/baseline $OUT"
