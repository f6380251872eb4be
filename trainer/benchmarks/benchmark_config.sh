# The SynthNight benchmark's data and training settings, shared by the benchmark scripts (sourced).
# Expects OUT and SEED; sets T (the trainer command), DATA, ARCH and COMMON, and makes the data set.
# The edge net with the ImageNet-pretrained trunk (docs/pretrained.md); the earlier random-init table
# is ARCH=pspnet-r18-w0.5-l16 PRETRAINED=none.
ARCH=${ARCH:-pspnet-r18i-l16}
PRETRAINED=${PRETRAINED:-imagenet}
# Generator learning rate: 10x the reference's 2.5e-4 for runs ~30x shorter than its 50,000
# iterations (200-iteration probe, pretrained source-only: segmentation loss 0.71 vs 1.00 at
# iteration 130). The random-init table used 2.5e-4.
LR=${LR:-2.5e-3}
# Night val mIoU every EVAL_EVERY iterations, so the curves picture has a curve (0: about ten over the run; -1: at the end only).
EVAL_EVERY=${EVAL_EVERY:-200}
BIN=${BIN:-trainer/DANNet.Trainer/bin/Release/net10.0}
[ -n "${NO_BUILD:-}" ] || dotnet build trainer/DANNet.Trainer -c Release -v q -nologo >/dev/null
T=(dotnet "$BIN/dannet-train.dll")
DATA=${DATA:-$OUT/synthnight}
[ -f "$DATA/synthnight.json" ] || "${T[@]}" synth --scale small --seed "$SEED" --out "$DATA"

COMMON=(--source "$DATA/cityscapes" --target "$DATA/dark_zurich" --arch "$ARCH" --pretrained "$PRETRAINED"
  --set augment.sourceCrop=256 --set augment.sourceScaleMin=0.25 --set augment.sourceScaleMax=0.5
  --set augment.targetCrop=540 --set augment.targetResize=256
  --set run.evalHeight=272 --set run.evalWidth=480 --set run.checkpointEvery=200 --set run.logEvery=10
  --set run.threads=2 --set run.evalEvery="$EVAL_EVERY" --set model.discriminatorChannels=16 --set run.seed="$SEED" --set optim.generatorLr="$LR")
TIMER=()
[ -x /usr/bin/time ] && TIMER=(/usr/bin/time -f "%C: %e s wall, %M KB peak")   # Debian package 'time'
