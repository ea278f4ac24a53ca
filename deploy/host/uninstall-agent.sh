#!/usr/bin/env bash
# Removes the oCore agent from this host: stops and removes its systemd unit or its supervisor,
# then deletes the executable, these scripts, the settings and the state (key, certificate,
# spool) under the prefix. Prints `OCORE_RESULT removed` as its last line.
#
# Usage: uninstall-agent.sh --prefix DIR [--unit-name NAME]
#   --unit-name defaults to the one recorded in DIR/etc/install.conf, else ocore-agent.
set -euo pipefail

fail() {
  printf 'uninstall-agent: %s\n' "$*" >&2
  exit 2
}
usage_line="Usage: uninstall-agent.sh --prefix DIR [--unit-name NAME]"

# Everything runs from this function: bash has read it whole before the script file is deleted.
main() {
  local prefix="" unit_name=""
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || fail "$1 needs a value. $usage_line"
    case "$1" in
      --prefix) prefix=$2 ;;
      --unit-name) unit_name=$2 ;;
      *) fail "unknown argument \"$1\". $usage_line" ;;
    esac
    shift 2
  done
  [[ "$prefix" =~ ^/[A-Za-z0-9._/-]+$ && "$prefix" != *..* && "$prefix" != / ]] ||
    fail "--prefix must be the absolute install directory (got \"$prefix\"). $usage_line"
  prefix=${prefix%/}
  if [ -z "$unit_name" ] && [ -f "$prefix/etc/install.conf" ]; then
    unit_name=$(sed -n 's/^unit=\([A-Za-z0-9_.@-]*\)$/\1/p' "$prefix/etc/install.conf")
  fi
  unit_name=${unit_name:-ocore-agent}
  [[ "$unit_name" =~ ^[A-Za-z0-9_.@-]+$ ]] || fail "--unit-name \"$unit_name\" is not a unit name. $usage_line"

  local unit_dir=/etc/systemd/system
  if [ -f "$unit_dir/$unit_name.service" ]; then
    if command -v systemctl >/dev/null && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
      systemctl disable --now --quiet "$unit_name.service" || true
    fi
    rm -rf "$unit_dir/$unit_name.service" "$unit_dir/$unit_name.service.d"
    if command -v systemctl >/dev/null; then systemctl daemon-reload 2>/dev/null || true; fi
    printf 'uninstall-agent: removed %s.service\n' "$unit_name"
  fi

  stop_pid_file "$prefix/run/supervisor.pid" 40 "supervise-agent.sh --prefix $prefix"
  # An agent left without its supervisor (the supervisor was killed hard).
  stop_pid_file "$prefix/run/agent.pid" 35 "$prefix/bin/ocore-agent"

  # Only what install-agent.sh creates; the prefix itself goes when nothing else is in it.
  rm -rf "${prefix:?}/bin" "${prefix:?}/libexec" "${prefix:?}/etc" "${prefix:?}/state" "${prefix:?}/run" "${prefix:?}/log"
  rmdir "$prefix" 2>/dev/null || true
  echo "OCORE_RESULT removed"
}

# Stops the process whose pid the file holds (TERM, then KILL after `timeout` seconds), if its
# command line still contains `expected` (a stale pid file may name a reused pid).
stop_pid_file() {
  local pid_file=$1 timeout=$2 expected=$3 pid waited=0
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$expected"* ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$timeout" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  printf 'uninstall-agent: stopped pid %s (%s)\n' "$pid" "$(basename "$pid_file" .pid)"
}

main "$@"
