#!/usr/bin/env bash
# The README's replay pictures: dannet-edge replay on the embedded night drive (overlay frame and the report's plot) and on
# a short H.264 "dash-cam" clip made from a real street photo (OpenCV's sample leuvenA.jpg, Apache-2.0 / BSD-3-Clause,
# from Debian's opencv-doc; trainer/benchmarks/readme_pictures.sh fetches it), with the embedded model on the CPU.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-out/replay-pictures}
EDGE=(dotnet runtime/DANNet.Edge/bin/Release/net10.0/dannet-edge.dll)
photo=out/opencv-samples/usr/share/doc/opencv-doc/examples/data/leuvenA.jpg
[ -f "$photo" ] || { mkdir -p out/opencv-samples; (cd out/opencv-samples && apt-get download opencv-doc >/dev/null && dpkg-deb -x opencv-doc_*.deb .); }
mkdir -p "$OUT" docs/images/replay
"${EDGE[@]}" replay assets/synthnight-night-drive-640x360.avi --providers cpu --overlay "$OUT/night.avi" --report "$OUT/night.jsonl"
ffmpeg -hide_banner -loglevel error -y -ss 5 -i "$OUT/night.avi" -frames:v 1 docs/images/replay/night-drive-overlay.png
cp "$OUT/night.png" docs/images/replay/night-drive-report.png
# A slow push-in on the photo, 4 s at 15 fps, as an ordinary H.264 MP4.
ffmpeg -hide_banner -loglevel error -y -loop 1 -i "$photo" -vf "scale=1920:-2,zoompan=z='1+0.0015*on':d=60:s=960x540:fps=15" -frames:v 60 \
  -c:v libx264 -pix_fmt yuv420p "$OUT/street.mp4"
"${EDGE[@]}" replay "$OUT/street.mp4" --providers cpu --overlay "$OUT/street.avi" --side-by-side
ffmpeg -hide_banner -loglevel error -y -ss 2 -i "$OUT/street.avi" -frames:v 1 -vf scale=1280:-2 docs/images/replay/street-side-by-side.png
