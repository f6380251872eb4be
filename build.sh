#!/usr/bin/env bash
# DANNet Edge: the one entry point on a fresh machine (Debian 12 with the .NET 10 SDK).
#
#   ./build.sh demo    install what is missing, build, run the main job on its embedded default
#   ./build.sh test    install what is missing, build, run every test (TRX results in out/test-results)
#   ./build.sh deb [--arch amd64|arm64] [--variant gpu|cpu]   the Debian package in out/deb (systemd/make-deb.sh)
#
# Both install the apt packages the native libraries need (OpenCV's runtime wants GTK 3) when they
# are missing, so no manual step precedes them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# libgtk-3-0: OpenCV's runtime; python3: the shared-memory ring's Python reader (tests, demo);
# systemd: systemd-analyze, which checks the unit file in the tests; ffmpeg: network cameras (rtsp://, http://) and the loopback stream of their tests;
# rtsp-server-perl: the loopback RTSP server those tests publish to and read from; binutils: readelf, which the native-dependency test reads libraries with;
# systemd-container and debootstrap: the system test boots a minimal Debian under its own systemd (tests/DANNet.System.Tests).
# qemu-user-static, binfmt-support and the arm64 C/C++ runtime: the arm64 build runs under emulation in the system test
# (with libssl3:arm64, which .NET's cryptography needs for the model's SHA-256: without it the arm64 program aborts).
apt_packages=(libgtk-3-0 python3 systemd ffmpeg rtsp-server-perl binutils systemd-container debootstrap
              qemu-user-static binfmt-support libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64 libssl3:arm64)

install_system_packages() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing system packages: ${missing[*]}"
    if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' && ! dpkg --print-foreign-architectures | grep -qx arm64; then
      $sudo dpkg --add-architecture arm64
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Node.js checks the Kubernetes manifests against the Kubernetes schema (deploy/k8s, pinned by its package-lock.json).
  if ! command -v npm >/dev/null; then
    echo "==> installing system packages: nodejs npm"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if [ ! -d deploy/k8s/node_modules ] || [ deploy/k8s/package-lock.json -nt deploy/k8s/node_modules ]; then
    (cd deploy/k8s && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  # binfmt_misc may be absent (a container): then the arm64 tests say so and skip.
  if [ -d /proc/sys/fs/binfmt_misc ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    $sudo update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  fi
}

require_dotnet() {
  if ! command -v dotnet >/dev/null; then
    echo "error: the .NET 10 SDK is not on PATH. Install it (https://dot.net) and run again." >&2
    exit 1
  fi
}

cmd="${1:-}"
case "$cmd" in
  demo)
    shift
    install_system_packages; require_dotnet
    dotnet build DANNet.Edge.sln -c Release -v q -nologo
    dotnet trainer/DANNet.Trainer/bin/Release/net10.0/dannet-train.dll demo "$@"
    edge=(dotnet runtime/DANNet.Edge/bin/Release/net10.0/dannet-edge.dll)
    ring=/dev/shm/dannet-edge/masks
    echo
    echo "==> the edge daemon on its embedded defaults (SynthNight model, night drive video, CPU here)"
    "${edge[@]}" run --frames 60 &
    daemon=$!
    trap 'kill $daemon 2>/dev/null || true' EXIT
    "${edge[@]}" tap --path "$ring" --frames 12 --png out/demo/masks --every 3
    echo "==> the Python reader (standard library) on the same ring"
    python3 runtime/python/dannet_edge_shm.py --path "$ring" --frames 3 --png out/demo/mask-python.png
    wait $daemon
    trap - EXIT
    echo
    echo "colour masks: out/demo/masks/*.png and out/demo/mask-python.png; the ring stays at $ring for other readers"
    ;;
  test)
    shift
    install_system_packages; require_dotnet
    rm -rf out/test-results
    dotnet build DANNet.Edge.sln -c Release -nologo -v q
    status=0
    for project in tests/*/*.csproj; do
      name="$(basename "$project" .csproj)"
      echo "==> $name"
      dotnet test "$project" -c Release --no-build -nologo \
        --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
        --results-directory out/test-results "$@" || status=1
    done
    exit $status
    ;;
  deb)
    shift
    install_system_packages; require_dotnet
    exec systemd/make-deb.sh "$@"
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
