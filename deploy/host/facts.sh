#!/bin/sh
# Reports what oCore needs to know about this host before installing its agent, as KEY=VALUE
# lines (values on one line, nothing else on stdout). Read-only: changes nothing on the host.
# POSIX sh on purpose: it runs before oCore knows whether bash exists.
#
#   facts.sh [--data-dir DIR]
#
# --data-dir is the directory whose free space counts (the agent's prefix or Docker's data
# root); the nearest existing parent is measured. Exit code 0 unless the usage is wrong (2).
set -u

data_dir=/var/lib
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir)
      [ $# -ge 2 ] || { echo "facts.sh: --data-dir needs a value" >&2; exit 2; }
      data_dir=$2
      shift 2
      ;;
    *)
      echo "facts.sh: unknown argument \"$1\". Usage: facts.sh [--data-dir DIR]" >&2
      exit 2
      ;;
  esac
done

# Prints KEY=VALUE with newlines and carriage returns in VALUE turned into spaces.
fact() {
  printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\r\n' '  ')"
}

os_release() {
  # $1: the os-release key; prints its value without quotes.
  for file in /etc/os-release /usr/lib/os-release; do
    if [ -r "$file" ]; then
      sed -n "s/^$1=//p" "$file" | head -n 1 | sed -e 's/^"//' -e 's/"$//' -e "s/^'//" -e "s/'\$//"
      return 0
    fi
  done
}

fact hostname "$(uname -n)"
fact os_id "$(os_release ID)"
fact os_id_like "$(os_release ID_LIKE)"
fact os_version "$(os_release VERSION_ID)"
fact os_name "$(os_release PRETTY_NAME)"
fact kernel "$(uname -r)"
fact architecture "$(uname -m)"

cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo)
fact cpu_cores "$cpus"
memory_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
fact memory_total_bytes "$((memory_kib * 1024))"

measured=$data_dir
while [ ! -d "$measured" ] && [ "$measured" != / ]; do measured=$(dirname "$measured"); done
# POSIX df output in 1024-byte blocks: the last line's 2nd and 4th fields are total and available.
disk=$(df -Pk "$measured" 2>/dev/null | awk 'END { print $2 " " $4 }')
fact disk_path "$measured"
fact disk_total_bytes "$((${disk% *} * 1024))"
fact disk_available_bytes "$((${disk#* } * 1024))"

is_root=false
[ "$(id -u)" -eq 0 ] && is_root=true
fact is_root "$is_root"
sudo_ok=false
if [ "$is_root" = false ] && command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  sudo_ok=true
fi
fact passwordless_sudo "$sudo_ok"

init=$(cat /proc/1/comm 2>/dev/null || echo unknown)
fact init_process "$init"
systemd=false
if [ "$init" = systemd ] && command -v systemctl >/dev/null 2>&1; then systemd=true; fi
fact systemd "$systemd"

docker_version=""
daemon=false
if command -v docker >/dev/null 2>&1; then
  docker_version=$(docker version --format '{{.Client.Version}}' 2>/dev/null || docker --version 2>/dev/null | sed -n 's/^Docker version \([^,]*\).*/\1/p')
  # The daemon answers when the server part of `docker version` does, as this user or via sudo.
  server_version=$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)
  if [ -z "$server_version" ] && [ "$sudo_ok" = true ]; then
    server_version=$(sudo -n docker version --format '{{.Server.Version}}' 2>/dev/null || true)
  fi
  if [ -n "$server_version" ]; then
    daemon=true
    docker_version=$server_version
  fi
fi
fact docker_version "$docker_version"
fact docker_daemon_answers "$daemon"
