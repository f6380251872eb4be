#!/usr/bin/env bash
# What the evaluation resize changes: SynthNight night-test mIoU of the benchmark's runs evaluated with
# PIL's antialiased bilinear (the reference's, eval's default), OpenCV's bilinear and OpenCV's pixel-area
# resize, and what each costs per frame in the runtime (dannet-edge bench --resize, embedded model).
#
#   trainer/benchmarks/resize_effect.sh                 # after trainer/benchmarks/synthnight_adaptation.sh
#   RUNS="source-only dannet" OUT=out/benchmark-imagenet trainer/benchmarks/resize_effect.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/benchmark-imagenet}
RUNS=${RUNS:-source-only dannet}
DATA=${DATA:-$OUT/synthnight}
BIN=${BIN:-trainer/DANNet.Trainer/bin/Release/net10.0}
EDGE=${EDGE:-runtime/DANNet.Edge/bin/Release/net10.0}
[ -n "${NO_BUILD:-}" ] || dotnet build DANNet.Edge.sln -c Release -v q -nologo >/dev/null
T=(dotnet "$BIN/dannet-train.dll")
{
  echo "| run | antialiased (PIL) | linear (OpenCV) | area (OpenCV) |"
  echo "|---|---|---|---|"
  for r in $RUNS; do
    row="| $r |"
    for m in antialiased linear area; do
      dir=$OUT/$r/resize-$m
      [ -f "$dir/iou.json" ] || "${T[@]}" eval --checkpoint "$OUT/$r" --data "$DATA/dark_zurich" --split test --resize "$m" --out "$dir" >/dev/null 2>&1
      row="$row $(python3 -c "import json,sys; print('%.1f' % (100*json.load(open(sys.argv[1]))['miou']))" "$dir/iou.json") |"
    done
    echo "$row"
  done
  echo
  echo "Runtime cost per frame (dannet-edge bench, embedded model, night drive 640x360 → model input, CPU, 2 threads):"
  echo
  for m in antialiased linear area; do
    dotnet "$EDGE/dannet-edge.dll" bench --resize "$m" --frames 30 --threads 2 --providers cpu 2>/dev/null | grep -o 'preprocess [0-9.]* ms' | sed "s/^/- $m: /"
  done
} | tee "$OUT/resize-effect.md"
