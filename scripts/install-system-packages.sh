#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: PostgreSQL (database tests run
# against a throwaway cluster of their own), Chromium (the console's browser tests) and Docker
# (the agent's container metrics; scripts/ensure-dockerd.sh starts the daemon), OpenSSH's sshd, sudo and
# debootstrap (server onboarding runs against real sshd hosts and a debootstrapped systemd host),
# busybox-static (the Docker operation tests import a one-binary image: no registry needed), and
# the shell linter `npm run lint` runs on deploy/ and scripts/ (package shellcheck), promtool (package
# prometheus: the /metrics test checks the exposition), docker-compose (v1: the compose file's test)
# asciinema (SSH session recordings must be files stock `asciinema cat` and `play` accept) and
# haproxy (the replicas test puts an L4 balancer in front of several server processes).
# Idempotent: installs only what is missing. Debian 12 / Ubuntu.
# `--check` installs nothing: it prints the missing packages, one a line, and exits 1 when any is.
set -euo pipefail

packages=(postgresql chromium docker.io openssh-server sudo debootstrap busybox-static shellcheck prometheus docker-compose asciinema haproxy)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
  [ ${#missing[@]} -eq 0 ]
  exit
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "System packages present: ${packages[*]}"
  exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "Installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a cluster of its own; the tests start their own and need none.
"${sudo[@]}" systemctl disable --now postgresql >/dev/null 2>&1 || true
# Only promtool is wanted from the prometheus package, not the server its postinst may start.
"${sudo[@]}" systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
