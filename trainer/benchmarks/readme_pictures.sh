#!/usr/bin/env bash
# The README's benchmark pictures, from the runs of trainer/benchmarks/synthnight_adaptation.sh:
#   docs/images/benchmark/night-test-example.png   SynthNight night-test: source-only, DANNet, the embedded int8 DANNet, oracle, label
#   docs/images/benchmark/night-test-ablation.png  the same images along the ablation: the pretraining the adaptation starts
#                                                  from, +light, +light+static, the embedded int8 DANNet, the oracle, label
#   docs/images/benchmark/adaptation-curves.png    the runs' night val mIoU and loss curves on one iteration axis
#   docs/images/benchmark/real-street.png          a real street photo (OpenCV's sample leuvenA.jpg, Apache-2.0 /
#                                                  BSD-3-Clause, from Debian's opencv-doc): the previous embedded
#                                                  model (ADAPT=400, from git history), the runs, the embedded int8 model
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/benchmark-adapt2000}
PRETRAIN=${PRETRAIN:-1200}   # the pretraining run's iterations, as in synthnight_adaptation.sh (for a column title)
DATA=${DATA:-$OUT/synthnight}
BIN=${BIN:-trainer/DANNet.Trainer/bin/Release/net10.0}
EMBEDDED=${EMBEDDED:-models/dannet-synthnight-pspnet-r18i-l16-272x480-int8.onnx}
OLD=${OLD:-out/previous-embedded-model-a217571f.onnx}
[ -n "${NO_BUILD:-}" ] || dotnet build trainer/DANNet.Trainer -c Release -v q -nologo >/dev/null
T=(dotnet "$BIN/dannet-train.dll")

finished() { [ -f "$OUT/$1/eval/iou.json" ]; }
# A picture is drawn only from finished runs, so a benchmark still running (or a folder lost with its machine: the
# ADAPT=2000 source-only and DANNet folders were) leaves the committed picture as it is, and says so.
oracle=()
finished oracle && oracle=(--model "oracle (night labels)=$OUT/oracle")

# The ablation ladder on three night-test images: each step a column, once its run has finished.
ladder=()
finished pretrain && ladder+=(--model "start: source-only ($PRETRAIN it)=$OUT/pretrain")
finished light && ladder+=(--model "+light=$OUT/light")
finished light-static && ladder+=(--model "+light+static=$OUT/light-static")
"${T[@]}" compare --data "$DATA/dark_zurich" --split test --count 3 "${ladder[@]}" --model "DANNet int8 (embedded)=$EMBEDDED" \
  "${oracle[@]}" --out docs/images/benchmark/night-test-ablation.png

# The runs' training curves on one iteration axis (night val mIoU, the static loss, the relighting loss on night images, the
# segmentation loss), the adaptation runs drawn from the pretraining's last iteration — every run that has finished.
curves=()
finished pretrain && curves+=("pretrain=$OUT/pretrain")
finished source-only && curves+=("source-only=$OUT/source-only")
finished light && curves+=("+light=$OUT/light@$PRETRAIN")
finished light-static && curves+=("+light+static=$OUT/light-static@$PRETRAIN")
finished dannet && curves+=("DANNet=$OUT/dannet@$PRETRAIN")
finished oracle && curves+=("oracle=$OUT/oracle")
[ ${#curves[@]} -eq 0 ] || "${T[@]}" curves --terms static,light_night,seg --out docs/images/benchmark/adaptation-curves.png "${curves[@]}"

if ! finished source-only || ! finished dannet; then
  echo "note: $OUT/source-only or $OUT/dannet has not finished (or is not on this machine): night-test-example.png and real-street.png left as they are" >&2
  exit 0
fi
[ ${#oracle[@]} -gt 0 ] || echo "note: $OUT/oracle has not finished: night-test-example.png without the oracle column" >&2
"${T[@]}" compare --data "$DATA/dark_zurich" --split test --count 3 \
  --model "source-only=$OUT/source-only" --model "DANNet=$OUT/dannet" --model "DANNet int8 (embedded)=$EMBEDDED" \
  "${oracle[@]}" --out docs/images/benchmark/night-test-example.png

# The embedded model the current one replaced (ADAPT=400, int8) lives in the git history only.
[ -f "$OLD" ] || git show 2bcd092:models/dannet-synthnight-pspnet-r18i-l16-272x480-int8.onnx > "$OLD"
photo=out/opencv-samples/usr/share/doc/opencv-doc/examples/data/leuvenA.jpg
if [ ! -f "$photo" ]; then
  mkdir -p out/opencv-samples
  (cd out/opencv-samples && apt-get download opencv-doc >/dev/null && dpkg-deb -x opencv-doc_*.deb .)
fi
"${T[@]}" compare --input "$photo" --tile-width 360 \
  --model "previous embedded (400 it adapted)=$OLD" --model "source-only (pretrained)=$OUT/source-only" --model "DANNet (pretrained)=$OUT/dannet" \
  --model "embedded int8 model=$EMBEDDED" \
  --out docs/images/benchmark/real-street.png
