#!/usr/bin/env bash
# The SynthNight adaptation benchmark: source-only, +light, +light+static, full DANNet and the
# night-label oracle, evaluated on SynthNight night-test, as one Markdown table.
#
#   trainer/benchmarks/synthnight_adaptation.sh                 # the full budget (see README)
#   PRETRAIN=600 ADAPT=150 trainer/benchmarks/synthnight_adaptation.sh   # a quicker, smaller one
#
# As in the paper, the adaptation runs start from a source-only model (PRETRAIN iterations) and
# train ADAPT more; the source-only baseline and the oracle get PRETRAIN + ADAPT iterations, so the
# comparison is at equal total iterations. Finished runs are skipped, interrupted ones resumed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/benchmark}
PRETRAIN=${PRETRAIN:-2000}
ADAPT=${ADAPT:-400}
SEED=${SEED:-1}
ARCH=${ARCH:-pspnet-r18-w0.5-l16}

dotnet build trainer/DANNet.Trainer -c Release -v q -nologo >/dev/null
T=(dotnet trainer/DANNet.Trainer/bin/Release/net10.0/dannet-train.dll)
DATA=$OUT/synthnight
[ -f "$DATA/synthnight.json" ] || "${T[@]}" synth --scale small --seed "$SEED" --out "$DATA"

COMMON=(--source "$DATA/cityscapes" --target "$DATA/dark_zurich" --arch "$ARCH"
  --set augment.sourceCrop=256 --set augment.sourceScaleMin=0.25 --set augment.sourceScaleMax=0.5
  --set augment.targetCrop=540 --set augment.targetResize=256
  --set run.evalHeight=272 --set run.evalWidth=480 --set run.checkpointEvery=200 --set run.logEvery=10
  --set run.threads=2 --set model.discriminatorChannels=16 --set run.seed="$SEED")
TIMER=()
[ -x /usr/bin/time ] && TIMER=(/usr/bin/time -f "%C: %e s wall, %M KB peak")   # Debian package 'time'
PRE_CKPT=$OUT/pretrain/checkpoints/iter-$(printf %06d "$PRETRAIN")/segmentation.pth

run() {
  local name=$1; shift
  local dir=$OUT/$name
  # A run that dies (TorchSharp has crashed sporadically with "Unknown scalar type") is resumed
  # from its last checkpoint, up to three times; resume is exact, so the result is the same.
  local attempt
  for attempt in 1 2 3 4; do
    [ -f "$dir/eval/iou.json" ] && return 0
    local resume=()
    [ -d "$dir/checkpoints" ] && resume=(--resume)
    "${TIMER[@]}" "${T[@]}" train --out "$dir" "${COMMON[@]}" "${resume[@]}" "$@" && continue
    echo "$name: attempt $attempt failed; resuming" >&2
  done
  [ -f "$dir/eval/iou.json" ] || { echo "$name: failed 4 times" >&2; exit 1; }
}
test_eval() {
  local name=$1
  [ -f "$OUT/$name/test/iou.json" ] || "${T[@]}" eval --checkpoint "$OUT/$name" --data "$DATA/dark_zurich" --split test --height 272 --width 480 --out "$OUT/$name/test" >/dev/null
}

run pretrain --mode sourceonly --iterations "$PRETRAIN"
run source-only --mode sourceonly --iterations $((PRETRAIN + ADAPT))
run light --iterations "$ADAPT" --no-adv --no-static --init-segmentation "$PRE_CKPT"
run light-static --iterations "$ADAPT" --no-adv --init-segmentation "$PRE_CKPT"
run dannet --iterations "$ADAPT" --init-segmentation "$PRE_CKPT"
run oracle --mode oracle --iterations $((PRETRAIN + ADAPT))
for r in source-only light light-static dannet oracle; do test_eval "$r"; done

"${T[@]}" eval-table \
  "source-only ($((PRETRAIN + ADAPT)) it)=$OUT/source-only/test/iou.json" \
  "+light=$OUT/light/test/iou.json" \
  "+light+static=$OUT/light-static/test/iou.json" \
  "DANNet (light+static+adv)=$OUT/dannet/test/iou.json" \
  "oracle (night labels, $((PRETRAIN + ADAPT)) it)=$OUT/oracle/test/iou.json" | tee "$OUT/table.md"
