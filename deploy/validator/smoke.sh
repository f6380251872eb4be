#!/bin/sh
# The validator image's self-check, run by its Dockerfile at build time (and by the system test in a Debian 12
# container holding the same packages): the embedded model against itself on three frames of the embedded drive,
# re-encoded as H.264 — fails on a missing native library, a missing ffmpeg or a broken install.
set -eu
root=${DANNET_EDGE_ROOT:-/opt/dannet-edge}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=$(ls "$root"/models/*.onnx | head -n 1)
video=$(ls "$root"/assets/*.avi | head -n 1)
mkdir -p "$work/drives"
ffmpeg -hide_banner -loglevel error -i "$video" -frames:v 3 -c:v libx264 -pix_fmt yuv420p "$work/drives/smoke.mp4"
dannet-edge validate --drives "$work/drives" --model "$model" --baseline "$model" --out "$work/out" \
  --providers cpu --min-agreement 1 --worst 1 >"$work/summary.txt" 2>&1 || { cat "$work/summary.txt" >&2; exit 1; }
test -s "$work/out/report.md" && test -s "$work/out/validation.json" && test -s "$work/out/plots/classes.png"
grep -q "validate: PASS — 1 drives, 3 frames; agreement 100.00 %" "$work/summary.txt" || { cat "$work/summary.txt" >&2; exit 1; }
echo "validator self-check: ok ($(tail -n 1 "$work/summary.txt" | cut -c1-80)…)"
