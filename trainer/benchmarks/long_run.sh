#!/usr/bin/env bash
# Stability run: one training run in the SynthNight benchmark's configuration for many iterations,
# to show it neither crashes nor produces a NaN (the trainer stops with the loss term named if one
# does). Resumes an interrupted run from its last checkpoint; prints wall time and peak memory.
#
#   trainer/benchmarks/long_run.sh                          # source-only, 5,000 iterations
#   MODE=dannet ITERATIONS=5000 trainer/benchmarks/long_run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/long-run}
SEED=${SEED:-1}
MODE=${MODE:-sourceonly}
ITERATIONS=${ITERATIONS:-5000}
source trainer/benchmarks/benchmark_config.sh

dir=$OUT/$MODE-$ITERATIONS
resume=()
[ -d "$dir/checkpoints" ] && resume=(--resume)
start=$(date +%s)
"${TIMER[@]}" "${T[@]}" train --out "$dir" --mode "$MODE" --iterations "$ITERATIONS" "${COMMON[@]}" "${resume[@]}" "$@"
echo "$MODE, $ITERATIONS iterations: finished in $(( $(date +%s) - start )) s (this invocation); metrics in $dir/metrics.jsonl"
