#!/usr/bin/env bash
# The SynthNight adaptation benchmark: source-only, +light, +light+static, full DANNet and the
# night-label oracle, evaluated on SynthNight night-test, as one Markdown table.
#
#   trainer/benchmarks/synthnight_adaptation.sh                 # the README table: ImageNet-pretrained pspnet-r18i-l16, 1200 + 400
#   PRETRAIN=600 ADAPT=150 trainer/benchmarks/synthnight_adaptation.sh   # a quicker, smaller one
#   ONLY="source-only oracle" trainer/benchmarks/synthnight_adaptation.sh   # only these runs (and their test evaluations)
#   ARCH=pspnet-r18-w0.5-l16 PRETRAINED=none LR=2.5e-4 PRETRAIN=2000 OUT=out/benchmark-random trainer/benchmarks/synthnight_adaptation.sh  # the earlier random-init table
#
# As in the paper, the adaptation runs start from a source-only model (PRETRAIN iterations) and
# train ADAPT more; the source-only baseline and the oracle get PRETRAIN + ADAPT iterations, so the
# comparison is at equal total iterations. Finished runs are skipped, interrupted ones resumed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/benchmark-imagenet}
PRETRAIN=${PRETRAIN:-1200}
ADAPT=${ADAPT:-400}
SEED=${SEED:-1}
ONLY=${ONLY:-}
source "$(dirname "${BASH_SOURCE[0]}")/benchmark_config.sh"
PRE_CKPT=$OUT/pretrain/checkpoints/iter-$(printf %06d "$PRETRAIN")/segmentation.pth

selected() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
run() {
  local name=$1; shift
  local dir=$OUT/$name
  [ -f "$dir/eval/iou.json" ] && return 0
  selected "$name" || return 0
  # A run that was interrupted (machine stopped, Ctrl-C) resumes from its last checkpoint; resume
  # is exact, so the result is the same. A run that fails stops the script: no silent retries.
  local resume=()
  [ -d "$dir/checkpoints" ] && resume=(--resume)
  "${TIMER[@]}" "${T[@]}" train --out "$dir" "${COMMON[@]}" "${resume[@]}" "$@"
}
test_eval() {
  local name=$1
  selected "$name" || return 0
  [ -f "$OUT/$name/test/iou.json" ] || "${T[@]}" eval --checkpoint "$OUT/$name" --data "$DATA/dark_zurich" --split test --height 272 --width 480 --out "$OUT/$name/test" >/dev/null
}

# The order puts the comparisons the targets need first (DANNet, its ablation without the
# adversarial term, source-only, the oracle), so a budget cut short still answers most of them.
run pretrain --mode sourceonly --iterations "$PRETRAIN"
run dannet --iterations "$ADAPT" --init-segmentation "$PRE_CKPT"
run light-static --iterations "$ADAPT" --no-adv --init-segmentation "$PRE_CKPT"
run source-only --mode sourceonly --iterations $((PRETRAIN + ADAPT))
run oracle --mode oracle --iterations $((PRETRAIN + ADAPT))
run light --iterations "$ADAPT" --no-adv --no-static --init-segmentation "$PRE_CKPT"
for r in source-only light light-static dannet oracle; do test_eval "$r"; done
# The night gap: the source-only model on SynthNight's day val images too.
selected source-only && { [ -f "$OUT/source-only/day-val/iou.json" ] || "${T[@]}" eval --checkpoint "$OUT/source-only" --data "$DATA/cityscapes" --layout cityscapes \
  --height 256 --width 512 --out "$OUT/source-only/day-val" >/dev/null; }
[ -z "$ONLY" ] || exit 0   # the table needs every run

"${T[@]}" eval-table \
  "source-only ($((PRETRAIN + ADAPT)) it)=$OUT/source-only/test/iou.json" \
  "+light=$OUT/light/test/iou.json" \
  "+light+static=$OUT/light-static/test/iou.json" \
  "DANNet (light+static+adv)=$OUT/dannet/test/iou.json" \
  "oracle (night labels, $((PRETRAIN + ADAPT)) it)=$OUT/oracle/test/iou.json" \
  "source-only on day val (not night)=$OUT/source-only/day-val/iou.json" | tee "$OUT/table.md"

# The runs' curves on one iteration axis (the adaptation runs drawn from the pretraining's last iteration): night val mIoU, the
# static loss, the generator's night adversarial term and the discriminators' losses.
"${T[@]}" curves --out "$OUT/curves.png" "pretrain=$OUT/pretrain" "source-only=$OUT/source-only" "+light=$OUT/light@$PRETRAIN" \
  "+light+static=$OUT/light-static@$PRETRAIN" "DANNet=$OUT/dannet@$PRETRAIN" "oracle=$OUT/oracle"
