#!/usr/bin/env bash
# One-time (and idempotent) set-up for a fresh Debian machine: system packages, then npm packages.
# `npm start` and `npm test` call this first, so a new clone needs nothing else. Re-runs are ~instant:
# each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0; [ "${1:-}" = "--quiet" ] && quiet=1
say() { [ $quiet = 1 ] || echo "[setup] $*"; }

# System packages the project needs (Debian 12 names):
#   libopencv-dev   OpenCV 4.6 headers and libraries for @u4/opencv4nodejs (form cleaning, alignment)
#   chromium        headless browser driven by playwright-core in the browser tests (never downloaded)
#   fonts-dejavu-core  a font for form rendering and screenshots
#   build-essential python3  node-gyp toolchain for the OpenCV addon
SYSTEM_PACKAGES=(libopencv-dev chromium fonts-dejavu-core build-essential python3 pkg-config)
missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages. The OpenCV addon must build against Debian's OpenCV, never download its own:
# OPENCV4NODEJS_DISABLE_AUTOBUILD=1. JOBS=max lets node-gyp use both cores (~7 min instead of ~20).
stamp=node_modules/.rekap-install-stamp
want=$(sha256sum package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing npm packages (first run compiles the OpenCV addon: several minutes)"
  export OPENCV4NODEJS_DISABLE_AUTOBUILD=1 JOBS=max
  if [ -f node_modules/.package-lock.json ] && [ -f node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node ]; then
    # An earlier install finished: bring it up to the lock file in place. `npm ci` would delete
    # node_modules and recompile the OpenCV addon (7 to 40 minutes) for a one-package change.
    npm install --no-audit --no-fund
  elif [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  node -e "require('@u4/opencv4nodejs')" >/dev/null 2>&1 || { echo "[setup] the OpenCV addon does not load" >&2; exit 1; }
  # argon2's prebuilt linux-x64 binary segfaults on this machine (exit 139 on require); its install
  # script only checks that a prebuild exists. Build it from source when the prebuild does not load.
  node -e "require('argon2')" >/dev/null 2>&1 || npm rebuild argon2 --build-from-source --no-audit --no-fund
  node -e "require('argon2')" >/dev/null 2>&1 || { echo "[setup] argon2 does not load" >&2; exit 1; }
  want=$(sha256sum package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  echo "$want" > "$stamp"
fi
say "ready"
