#!/usr/bin/env bash
# Installs dannet-edge as a systemd service (README, "Running on the car"), or removes it.
#
#   sudo systemd/install.sh [--rid linux-x64|linux-arm64] [--model FILE.onnx] [--publish-dir DIR]
#   sudo systemd/install.sh --uninstall [--purge]
#
# Puts the self-contained build in /opt/dannet-edge (with README.md and docs/, which the unit's
# Documentation= points at), the configuration in /etc/dannet-edge/dannet-edge.json (never
# overwriting one that was changed: the new one goes next to it as dannet-edge.json.new), the unit
# in /etc/systemd/system, models in /var/lib/dannet-edge/models (--model FILE becomes model.onnx,
# the path the shipped configuration names), the system user and group 'dannet' (group video for
# cameras), then reloads systemd. Running it again changes nothing that is already right.
# DESTDIR=/some/root installs into that tree instead (no user, no ownership, no systemctl): packaging
# and tests use it. --publish-dir takes an existing 'dotnet publish' output instead of building.
# The libraries the native code needs (systemd/native-dependencies.tsv, the list the .deb's Depends:
# come from) are installed with apt-get where it exists and are missing, or named where it does not;
# --no-deps leaves them alone. On Debian and Ubuntu, prefer the package: ./build.sh deb.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

root="${DESTDIR:-}"
rid=""; model=""; publish=""; uninstall=0; purge=0; deps=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rid) rid="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --publish-dir) publish="$2"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    --no-deps) deps=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

real=0
[ -z "$root" ] && real=1
if [ "$real" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (sudo), or set DESTDIR to install into a tree" >&2; exit 2
fi
say() { echo "==> $*"; }
systemd_running() { [ "$real" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

opt="$root/opt/dannet-edge"; etc="$root/etc/dannet-edge"; lib="$root/var/lib/dannet-edge"
unit="$root/etc/systemd/system/dannet-edge.service"

if [ "$uninstall" = 1 ]; then
  if systemd_running; then systemctl disable --now dannet-edge 2>/dev/null || true; fi
  rm -rf "$opt"; rm -f "$unit"
  say "removed $opt and $unit"
  if [ "$purge" = 1 ]; then rm -rf "$etc" "$lib"; say "removed $etc and $lib"; else say "kept $etc and $lib (--purge removes them)"; fi
  if systemd_running; then systemctl daemon-reload; fi
  exit 0
fi

if [ -n "$model" ] && [ ! -f "$model" ]; then echo "install.sh: --model '$model' does not exist" >&2; exit 2; fi
if [ -z "$publish" ]; then
  if [ -z "$rid" ]; then
    case "$(uname -m)" in x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; *) echo "install.sh: give --rid linux-x64 or linux-arm64" >&2; exit 2 ;; esac
  fi
  case "$rid" in linux-x64|linux-arm64) ;; *) echo "install.sh: --rid must be linux-x64 or linux-arm64, not '$rid'" >&2; exit 2 ;; esac
  publish="out/publish-$rid"
  say "publishing runtime/DANNet.Edge for $rid (self-contained) into $publish"
  dotnet publish runtime/DANNet.Edge -c Release -r "$rid" --self-contained -o "$publish" -nologo -v q
fi
[ -x "$publish/dannet-edge" ] || { echo "install.sh: no dannet-edge executable in '$publish'" >&2; exit 2; }

say "program: $opt"
install -d -m 755 "$opt"
# Replace the program's files (not the folder: a running service keeps its mapped files until it restarts).
cp -a "$publish/." "$opt/"
install -m 644 README.md "$opt/README.md"
install -d -m 755 "$opt/docs"
cp -a docs/. "$opt/docs/"

say "configuration: $etc/dannet-edge.json"
install -d -m 755 "$etc"
if [ ! -f "$etc/dannet-edge.json" ]; then
  install -m 640 systemd/dannet-edge.json "$etc/dannet-edge.json"
elif cmp -s systemd/dannet-edge.json "$etc/dannet-edge.json"; then
  say "  unchanged"
else
  install -m 640 systemd/dannet-edge.json "$etc/dannet-edge.json.new"
  say "  kept your changed configuration; the shipped one is $etc/dannet-edge.json.new (compare them)"
fi

say "unit: $unit"
install -d -m 755 "$(dirname "$unit")"
install -m 644 systemd/dannet-edge.service "$unit"

say "models: $lib/models"
install -d -m 750 "$lib" "$lib/models"
if [ -n "$model" ]; then
  install -m 640 "$model" "$lib/models/model.onnx"
  say "  installed $model as $lib/models/model.onnx"
elif [ ! -f "$lib/models/model.onnx" ]; then
  say "  no model yet: install.sh --model your.onnx (or copy it to /var/lib/dannet-edge/models/model.onnx)"
fi

if [ "$real" = 1 ] && [ "$deps" = 1 ]; then
  # The packages of the required libraries the installed native code needs (not those it ships itself), and of those it loads itself.
  needed=()
  while IFS=$'\t' read -r soname pkg need _; do
    case "$soname" in ''|'#'*|soname) continue ;; esac
    [ "$need" = loaded ] && { needed+=("$pkg"); continue; }   # opened with dlopen: no NEEDED entry shows it
    [ "$need" = required ] || continue
    if find "$opt" -name '*.so*' -type f -exec readelf -d {} + 2>/dev/null | grep -q "(NEEDED).*\[$soname\]"; then needed+=("$pkg"); fi
  done < systemd/native-dependencies.tsv
  missing=()
  for pkg in $(printf '%s\n' "${needed[@]}" | sort -u); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null; then
      say "libraries: apt-get install ${missing[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "install.sh: install the packages providing these libraries (systemd/native-dependencies.tsv): ${missing[*]}" >&2
    fi
  fi
fi

if [ "$real" = 1 ]; then
  if ! getent passwd dannet >/dev/null; then
    say "user: dannet (system user, own group, group video for cameras)"
    useradd --system --user-group --groups video --home-dir /var/lib/dannet-edge --shell /usr/sbin/nologin dannet
  fi
  chown root:dannet "$etc/dannet-edge.json"
  [ -f "$etc/dannet-edge.json.new" ] && chown root:dannet "$etc/dannet-edge.json.new"
  chown -R dannet:dannet "$lib"
  if systemd_running; then systemctl daemon-reload; say "systemd reloaded: systemctl enable --now dannet-edge"; fi
else
  say "DESTDIR install: no user, ownership or systemctl (do those on the target: useradd --system --user-group --groups video dannet)"
fi
