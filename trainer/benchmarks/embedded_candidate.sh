#!/usr/bin/env bash
# Is a benchmark's DANNet run a better embedded model than the one in models/? Exports the run at the embedded model's size,
# calibrates it to INT8 the way models/README.md made the embedded one, evaluates the embedded model on the same SynthNight
# night-test images and prints both side by side. The candidate wins when its int8 model scores higher on night-test AND its
# int8 masks agree with its float ones at least as well as the embedded model's did (EMBEDDED_AGREEMENT, from the model card:
# its float parent is not kept). With REPLACE=1 a winner is copied over the embedded model (the card and pictures are then
# updated by hand: trainer/benchmarks/readme_pictures.sh). KEEP_FLOAT_TOP (default 6, as the embedded model) is how many of the
# sensitivity report's top tensors stay float; each count has its own int8 files, so several can be compared.
#
#   OUT=out/benchmark-adapt2000 trainer/benchmarks/embedded_candidate.sh
#   OUT=out/benchmark-adapt2000 KEEP_FLOAT_TOP=4 trainer/benchmarks/embedded_candidate.sh   # as the ADAPT=400 model was made
#   OUT=out/benchmark-adapt2000 REPLACE=1 trainer/benchmarks/embedded_candidate.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/benchmark-adapt2000}
RUN=${RUN:-$OUT/dannet}
DATA=${DATA:-$OUT/synthnight}
EMBEDDED=${EMBEDDED:-models/dannet-synthnight-pspnet-r18i-l16-272x480-int8.onnx}
EMBEDDED_AGREEMENT=${EMBEDDED_AGREEMENT:-0.939}   # the card's "int8 vs float" (93.9 %; the ADAPT=400 model's was 0.938)
CAND=${CAND:-$OUT/embedded-candidate}
KEEP_FLOAT_TOP=${KEEP_FLOAT_TOP:-6}
Q=$CAND/dannet-int8-keep$KEEP_FLOAT_TOP   # the int8 model's files: .onnx, .report.json, .calib
BIN=${BIN:-trainer/DANNet.Trainer/bin/Release/net10.0}
CAL_BIN=${CAL_BIN:-calibration/DANNet.Calibration/bin/Release/net10.0}
if [ -z "${NO_BUILD:-}" ]; then
  dotnet build trainer/DANNet.Trainer -c Release -v q -nologo >/dev/null
  dotnet build calibration/DANNet.Calibration -c Release -v q -nologo >/dev/null
fi
T=(dotnet "$BIN/dannet-train.dll")
C=(dotnet "$CAL_BIN/dannet-calibrate.dll")
[ -d "$RUN/checkpoints" ] || { echo "error: '$RUN' has no checkpoints: run trainer/benchmarks/synthnight_adaptation.sh first (OUT=$OUT)." >&2; exit 1; }
mkdir -p "$CAND"

# The embedded model's contract: 272x480, antialiased resize; INT8 as its card says (64 night training frames, percentile 99.99,
# the KEEP_FLOAT_TOP most sensitive tensors of an 8-frame sensitivity report kept in float), measured on the 100 night-test images.
[ -f "$CAND/dannet.onnx" ] || "${T[@]}" export --checkpoint "$RUN" --height 272 --width 480 --out "$CAND/dannet.onnx"
[ -f "$Q.report.json" ] || "${C[@]}" --model "$CAND/dannet.onnx" --data "$DATA/dark_zurich/rgb_anon/train/night" \
  --frames 64 --sensitivity 8 --keep-float-top "$KEEP_FLOAT_TOP" --out "$Q.onnx" --report "$Q.report.json" \
  --cache "$Q.calib" --eval "$DATA/dark_zurich" --eval-split test --threads 2
"${T[@]}" check-onnx "$Q.onnx"
# The embedded model's evaluation is kept per file (its sha256), so a replaced model is evaluated anew.
ETEST=$CAND/embedded-test-$(sha256sum "$EMBEDDED" | cut -c1-16)
[ -f "$ETEST/iou.json" ] || "${T[@]}" eval --onnx "$EMBEDDED" --data "$DATA/dark_zurich" --split test --out "$ETEST" >/dev/null

set +e
python3 - "$Q.report.json" "$ETEST/iou.json" "$EMBEDDED_AGREEMENT" "$Q.decision.txt" <<'EOF'
import json, sys
report, embedded = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
embedded_agreement, decision_file = float(sys.argv[3]), sys.argv[4]
cand_miou, cand_float = report["int8"]["evaluation"]["miou"], report["float"]["evaluation"]["miou"]
cand_agreement = report["mask_agreement"]["fraction"]
lines = [
    f"candidate int8: {len(report['kept_float'])} tensors kept float ({', '.join(report['kept_float'])})",
    f"night-test mIoU, int8: candidate {100 * cand_miou:.2f} (its float model {100 * cand_float:.2f}), embedded {100 * embedded['miou']:.2f}",
    f"int8 vs float mask agreement: candidate {100 * cand_agreement:.1f} % ({report['mask_agreement']['on']}), embedded {100 * embedded_agreement:.1f} % (model card)",
]
wins = cand_miou > embedded["miou"] and cand_agreement >= embedded_agreement
lines.append("decision: " + ("replace — the candidate wins on both" if wins else "keep the embedded model — the candidate does not win on both"))
open(decision_file, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if wins else 3)
EOF
status=$?
set -e
if [ "$status" -eq 0 ] && [ -n "${REPLACE:-}" ]; then
  cp "$Q.onnx" "$EMBEDDED.tmp" && mv "$EMBEDDED.tmp" "$EMBEDDED"
  echo "replaced $EMBEDDED (update models/README.md and run trainer/benchmarks/readme_pictures.sh)"
fi
