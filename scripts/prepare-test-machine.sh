#!/usr/bin/env bash
# Brings this machine to what `npm test` drives for real, so that a fresh Debian machine needs only
# `npm install` and `npm test`: the system packages (scripts/install-system-packages.sh) and a
# Docker daemon that answers (scripts/ensure-dockerd.sh). `npm test` runs this first. As root, or
# with passwordless sudo, it installs and starts what is missing; otherwise it stops at once with
# the one command that does. (The debootstrapped systemd test host is built, then cached, by the
# test that boots it: server/test/support/systemd-host.ts.)
set -euo pipefail
cd "$(dirname "$0")/.."

fix="sudo bash scripts/prepare-test-machine.sh"
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    as_root=(cannot)
  fi
fi

if ! missing=$(bash scripts/install-system-packages.sh --check); then
  if [ "${as_root[*]}" = cannot ]; then
    echo "npm test needs system packages that are missing: $(echo "$missing" | tr '\n' ' ')" >&2
    echo "Install them (and start Docker) with: $fix" >&2
    exit 1
  fi
  bash scripts/install-system-packages.sh
fi

if ! docker info >/dev/null 2>&1; then
  if [ "${as_root[*]}" != cannot ]; then
    "${as_root[@]}" bash scripts/ensure-dockerd.sh
  elif ! pgrep -x dockerd >/dev/null; then
    echo "npm test needs a Docker daemon and none runs. Start it with: $fix" >&2
    exit 1
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "A Docker daemon runs, but $(id -un) cannot reach it. Run the tests as root, or: sudo usermod -aG docker $(id -un) (then log in again)" >&2
    exit 1
  fi
fi
echo "Test machine ready: system packages present, Docker daemon answers."
