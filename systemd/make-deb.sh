#!/usr/bin/env bash
# Builds the Debian package of dannet-edge (README, "Running on the car"):
#
#   systemd/make-deb.sh [--arch amd64|arm64] [--variant gpu|cpu] [--publish-dir DIR] [--out DIR] [--compression xz|gzip|none]
#
# amd64 defaults to the gpu variant (ONNX Runtime with its CUDA and TensorRT providers, which load
# where CUDA 13 exists, and the CPU provider everywhere); --variant cpu, and arm64 always, carry the
# CPU provider only (package dannet-edge-cpu on amd64). The package holds the self-contained publish
# in /opt/dannet-edge (with README.md and docs/), the unit in /lib/systemd/system, the example
# configuration as a conffile in /etc/dannet-edge, and /usr/bin/dannet-edge. Its Depends: are the
# Debian packages of the libraries the published native code needs (readelf NEEDED, mapped through
# systemd/native-dependencies.tsv: an unmapped library stops the build). postinst makes the 'dannet'
# user and installs the embedded model as /var/lib/dannet-edge/models/model.onnx unless one is there;
# purge removes state, configuration and the user. Writes out/deb/<package>_<version>_<arch>.deb.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

arch=""; variant=""; publish=""; outdir="out/deb"; compression=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --variant) variant="$2"; shift 2 ;;
    --publish-dir) publish="$2"; shift 2 ;;
    --out) outdir="$2"; shift 2 ;;
    --compression) compression="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-deb.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$arch" ]; then case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) echo "make-deb.sh: give --arch amd64|arm64" >&2; exit 2 ;; esac; fi
case "$compression" in xz|gzip|none) ;; *) echo "make-deb.sh: --compression must be xz, gzip or none (xz: the smallest; none: the fastest, for tests)" >&2; exit 2 ;; esac
case "$arch" in amd64) rid=linux-x64; variant="${variant:-gpu}" ;; arm64) rid=linux-arm64; variant="${variant:-cpu}" ;;
  *) echo "make-deb.sh: --arch must be amd64 or arm64, not '$arch'" >&2; exit 2 ;; esac
case "$arch/$variant" in amd64/gpu|amd64/cpu|arm64/cpu) ;;
  arm64/gpu) echo "make-deb.sh: ONNX Runtime's GPU package has no arm64 library; a Jetson's TensorRT build of ONNX Runtime replaces the CPU one (README, Jetson guide)" >&2; exit 2 ;;
  *) echo "make-deb.sh: --variant must be gpu or cpu, not '$variant'" >&2; exit 2 ;; esac
for tool in dpkg-deb readelf; do command -v "$tool" >/dev/null || { echo "make-deb.sh: '$tool' is missing (apt-get install dpkg binutils)" >&2; exit 2; }; done

package=dannet-edge
[ "$arch/$variant" = amd64/cpu ] && package=dannet-edge-cpu
base_version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
commit=$(git rev-parse --short=7 HEAD 2>/dev/null || echo nogit)
version="${base_version}+git${commit}"

if [ -z "$publish" ]; then
  publish="out/publish-$rid-$variant"
  echo "==> publishing runtime/DANNet.Edge for $rid ($variant inference, self-contained) into $publish"
  rm -rf "$publish"
  dotnet publish runtime/DANNet.Edge -c Release -r "$rid" --self-contained -p:EdgeInference="$variant" -o "$publish" -nologo -v q
fi
[ -f "$publish/dannet-edge" ] || { echo "make-deb.sh: no dannet-edge executable in '$publish'" >&2; exit 2; }
model=$(cd "$publish/models" && ls ./*.onnx | head -1 | sed 's:^\./::')
[ -n "$model" ] || { echo "make-deb.sh: no embedded model in '$publish/models'" >&2; exit 2; }

# Depends: the packages of every library the shipped native code needs and does not ship itself.
declare -A package_of required
loaded_packages=()
while IFS=$'\t' read -r soname pkg need _; do
  case "$soname" in ''|'#'*|soname) continue ;; esac
  package_of[$soname]=$pkg; required[$soname]=$need
  [ "$need" = loaded ] && loaded_packages+=("$pkg")   # opened with dlopen: no NEEDED entry shows it
done < systemd/native-dependencies.tsv
declare -A shipped depends
for pkg in "${loaded_packages[@]}"; do depends[$pkg]=1; done
for so in $(find "$publish" -name '*.so*' -type f); do shipped[$(basename "$so")]=1; done
unmapped=()
for so in $(find "$publish" -name '*.so*' -type f); do
  for need in $(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [ -n "${shipped[$need]:-}" ] && continue
    if [ -z "${package_of[$need]:-}" ]; then unmapped+=("$need (needed by $(basename "$so"))"); continue; fi
    [ "${required[$need]}" = required ] && depends[${package_of[$need]}]=1
  done
done
if [ ${#unmapped[@]} -gt 0 ]; then
  echo "make-deb.sh: libraries not in systemd/native-dependencies.tsv: ${unmapped[*]} — add each with its package" >&2; exit 1
fi
depends_line=$(printf '%s\n' "${!depends[@]}" | sort | paste -sd, | sed 's/,/, /g')

stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
root="$stage/root"
install -d -m 755 "$root/opt/dannet-edge" "$root/etc/dannet-edge" "$root/lib/systemd/system" "$root/usr/bin" "$root/DEBIAN"
cp -a "$publish/." "$root/opt/dannet-edge/"
install -m 644 README.md "$root/opt/dannet-edge/README.md"
install -d -m 755 "$root/opt/dannet-edge/docs"; cp -a docs/. "$root/opt/dannet-edge/docs/"
install -m 644 systemd/dannet-edge.service "$root/lib/systemd/system/dannet-edge.service"
install -m 640 systemd/dannet-edge.json "$root/etc/dannet-edge/dannet-edge.json"
ln -s /opt/dannet-edge/dannet-edge "$root/usr/bin/dannet-edge"
chmod -R u+rwX,go+rX,go-w "$root/opt/dannet-edge"
chmod 640 "$root/etc/dannet-edge/dannet-edge.json"
for script in postinst prerm postrm; do
  sed "s/@EMBEDDED_MODEL@/$model/" "systemd/debian/$script" > "$root/DEBIAN/$script"; chmod 755 "$root/DEBIAN/$script"
done
echo /etc/dannet-edge/dannet-edge.json > "$root/DEBIAN/conffiles"
description="night-capable semantic segmentation on the car ($([ "$variant" = gpu ] && echo "TensorRT/CUDA/CPU" || echo "CPU") inference)"
{
  echo "Package: $package"
  echo "Version: $version"
  echo "Architecture: $arch"
  echo "Maintainer: DANNet Edge <dannet-edge@localhost>"
  echo "Installed-Size: $(du -sk "$root" | cut -f1)"
  echo "Depends: $depends_line, passwd, systemd"
  echo "Recommends: ffmpeg, python3"
  [ "$package" = dannet-edge-cpu ] && { echo "Conflicts: dannet-edge"; echo "Replaces: dannet-edge"; echo "Provides: dannet-edge"; }
  echo "Section: misc"
  echo "Priority: optional"
  echo "Homepage: https://github.com/dannet-edge/dannet-edge"
  echo "Description: DANNet Edge daemon: $description"
  echo " Camera frames (V4L2, RTSP/HTTP via ffmpeg, files) through a relighting and segmentation"
  echo " network exported from the DANNet trainer, class masks published to a shared-memory ring"
  echo " other processes read. Runs as the systemd service dannet-edge (Type=notify, watchdog)."
  echo " ffmpeg is needed for network cameras; python3 for the ring's Python reader."
} > "$root/DEBIAN/control"
mkdir -p "$outdir"
deb="$outdir/${package}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
echo "==> $deb: $(du -h "$deb" | cut -f1) ($(du -sh "$root/opt/dannet-edge" | cut -f1) installed in /opt/dannet-edge)"
echo "    Depends: $depends_line, passwd, systemd"
