#!/usr/bin/env bash
# Installs (or upgrades in place) the oCore agent on this host and starts it supervised.
#
#   install-agent.sh --prefix DIR --binary FILE --sha256 HEX --server HOST:PORT --token-file FILE
#                    --mode auto|systemd|supervised [--unit-name NAME]
#
# Layout under DIR: bin/ocore-agent, libexec/ (these scripts), etc/agent.env (0600, the agent's
# settings) and etc/install.conf (how it was installed), state/ (key, certificate, spool), and
# for the supervised mode run/ (pid files) and log/. Runs as root for --mode systemd; the
# supervised mode works for any user that owns DIR.
#
# The other files of deploy/ must sit next to this script as uploaded: prestart-agent.sh,
# supervise-agent.sh, uninstall-agent.sh and ocore-agent.service (here or in ../systemd/).
#
# Exit codes: 0 installed and running; 2 usage error; 10 checksum mismatch; 11 enrollment
# failed; 12 the agent did not stay up. The last line of output is `OCORE_RESULT mode=<mode>`
# on success. The token file is deleted in every case.
set -euo pipefail

readonly STAY_UP_SECONDS=5
usage_line="Usage: install-agent.sh --prefix DIR --binary FILE --sha256 HEX --server HOST:PORT --token-file FILE --mode auto|systemd|supervised [--unit-name NAME]"

fail() {
  local code=$1
  shift
  printf 'install-agent: %s\n' "$*" >&2
  exit "$code"
}
usage() { fail 2 "$*. $usage_line"; }
say() { printf 'install-agent: %s\n' "$*"; }

prefix="" binary="" sha256="" server="" token_file="" mode="" unit_name="ocore-agent"
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage "$1 needs a value"
  case "$1" in
    --prefix) prefix=$2 ;;
    --binary) binary=$2 ;;
    --sha256) sha256=$2 ;;
    --server) server=$2 ;;
    --token-file) token_file=$2 ;;
    --mode) mode=$2 ;;
    --unit-name) unit_name=$2 ;;
    *) usage "unknown argument \"$1\"" ;;
  esac
  shift 2
done

# The one-time token must not outlive this run, whatever happens below.
if [ -n "$token_file" ]; then trap 'rm -f -- "$token_file"' EXIT; fi

# The prefix goes into a systemd drop-in: no spaces, no "%" specifiers, no "..".
[[ "$prefix" =~ ^/[A-Za-z0-9._/-]+$ && "$prefix" != *..* && "$prefix" != / ]] ||
  usage "--prefix must be an absolute path of letters, digits, \".\", \"_\", \"-\" and \"/\" (got \"$prefix\")"
prefix=${prefix%/}
[ -f "$binary" ] || usage "--binary \"$binary\" is not a file"
[[ "$sha256" =~ ^[0-9a-fA-F]{64}$ ]] || usage "--sha256 must be 64 hex digits"
[[ "$server" =~ ^[A-Za-z0-9._-]+:[0-9]{1,5}$ || "$server" =~ ^\[[0-9A-Fa-f:]+\]:[0-9]{1,5}$ ]] ||
  usage "--server must be HOST:PORT of the agent gateway (got \"$server\")"
[ -f "$token_file" ] || usage "--token-file \"$token_file\" is not a file"
[[ "$unit_name" =~ ^[A-Za-z0-9_.@-]+$ && "$unit_name" != *.service ]] ||
  usage "--unit-name must be a unit name without \".service\" (letters, digits, \"_\", \".\", \"@\", \"-\")"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
systemd_running() { [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && command -v systemctl >/dev/null; }
case "$mode" in
  auto) if systemd_running; then mode=systemd; else mode=supervised; fi ;;
  systemd)
    systemd_running ||
      usage "--mode systemd, but systemd is not this host's init (PID 1 is \"$(cat /proc/1/comm 2>/dev/null)\"); use --mode auto or supervised"
    ;;
  supervised) ;;
  *) usage "--mode must be auto, systemd or supervised (got \"$mode\")" ;;
esac
if [ "$mode" = systemd ] && [ "$(id -u)" -ne 0 ]; then
  usage "--mode systemd installs a system unit and must run as root (or through sudo -n)"
fi
unit_file=""
if [ "$mode" = systemd ]; then
  for candidate in "$here/ocore-agent.service" "$here/../systemd/ocore-agent.service"; do
    if [ -f "$candidate" ]; then unit_file=$candidate; break; fi
  done
  [ -n "$unit_file" ] || usage "ocore-agent.service was not uploaded next to install-agent.sh"
fi
for helper in prestart-agent.sh supervise-agent.sh uninstall-agent.sh; do
  [ -f "$here/$helper" ] || usage "$helper was not uploaded next to install-agent.sh"
done

actual=$(sha256sum "$binary" | cut -d' ' -f1)
expected=$(printf '%s' "$sha256" | tr 'A-F' 'a-f')
[ "$actual" = "$expected" ] ||
  fail 10 "checksum mismatch for $binary: expected $expected, got $actual. The upload is incomplete or corrupt: upload the executable again."

umask 077
mkdir -p "$prefix/bin" "$prefix/libexec" "$prefix/etc" "$prefix/state" "$prefix/run" "$prefix/log"
chmod 0755 "$prefix" "$prefix/bin" "$prefix/libexec"
for helper in prestart-agent.sh supervise-agent.sh uninstall-agent.sh; do
  install -m 0755 "$here/$helper" "$prefix/libexec/$helper"
done

# Replace the executable atomically (a running agent keeps the old inode); a previous upgrade's
# leftovers no longer apply to what is installed now.
install -m 0755 "$binary" "$prefix/bin/ocore-agent.installing"
mv -f "$prefix/bin/ocore-agent.installing" "$prefix/bin/ocore-agent"
rm -f "$prefix/bin/ocore-agent.upgrade" "$prefix/bin/ocore-agent.new"
version=$("$prefix/bin/ocore-agent" version) || fail 12 "the installed executable does not run on this host ($prefix/bin/ocore-agent version failed)"
say "installed ocore-agent $version in $prefix/bin"

# The agent's settings: the two managed lines are replaced, lines an operator added are kept.
env_file="$prefix/etc/agent.env"
{
  if [ -f "$env_file" ]; then grep -v -e '^OCORE_AGENT_SERVER=' -e '^OCORE_AGENT_STATE_DIR=' "$env_file" || true; fi
  printf 'OCORE_AGENT_SERVER=%s\nOCORE_AGENT_STATE_DIR=%s\n' "$server" "$prefix/state"
} >"$env_file.tmp"
chmod 0600 "$env_file.tmp"
mv -f "$env_file.tmp" "$env_file"
printf 'mode=%s\nunit=%s\nprefix=%s\n' "$mode" "$unit_name" "$prefix" >"$prefix/etc/install.conf"
chmod 0600 "$prefix/etc/install.conf"

if ! enrolled=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ OCORE_AGENT_STATE_DIR="$prefix/state" \
  "$prefix/bin/ocore-agent" enroll --server "$server" --token-file "$token_file" 2>&1); then
  fail 11 "enrollment failed: $enrolled"
fi
say "${enrolled%%$'\n'*}"

stop_supervisor() {
  local pid_file="$prefix/run/supervisor.pid" pid waited=0
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  # Only our supervisor: a stale pid file may name a pid reused by something else.
  if [[ "$pid" =~ ^[0-9]+$ ]] &&
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"supervise-agent.sh --prefix $prefix"* ]]; then
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 40 ]; do
      sleep 1
      waited=$((waited + 1))
    done
  fi
  rm -f "$pid_file"
}

# Succeeds when `probe` prints a pid within STAY_UP_SECONDS and the same one for as long again.
stays_up() {
  local probe=$1 first="" current i
  for ((i = 0; i < STAY_UP_SECONDS; i++)); do
    sleep 1
    first=$($probe)
    if [ -n "$first" ] && [ "$first" != 0 ]; then break; fi
  done
  [ -n "$first" ] && [ "$first" != 0 ] || return 1
  for ((i = 0; i < STAY_UP_SECONDS; i++)); do
    sleep 1
    current=$($probe)
    [ "$current" = "$first" ] || return 1
  done
}

systemd_pid() {
  [ "$(systemctl show -p ActiveState --value "$unit_name.service")" = active ] || return 0
  systemctl show -p MainPID --value "$unit_name.service"
}
supervised_pid() {
  local pid
  pid=$(cat "$prefix/run/agent.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

if [ "$mode" = systemd ]; then
  stop_supervisor
  unit_dir=/etc/systemd/system
  install -m 0644 "$unit_file" "$unit_dir/$unit_name.service"
  mkdir -p "$unit_dir/$unit_name.service.d"
  # Settings that name the prefix: a list setting is emptied first, then set.
  cat >"$unit_dir/$unit_name.service.d/10-prefix.conf" <<CONF
[Service]
EnvironmentFile=
EnvironmentFile=$prefix/etc/agent.env
ExecStartPre=
ExecStartPre=$prefix/libexec/prestart-agent.sh --prefix $prefix
ExecStart=
ExecStart=$prefix/bin/ocore-agent run
ReadWritePaths=
ReadWritePaths=$prefix/bin $prefix/state
CONF
  chmod 0644 "$unit_dir/$unit_name.service.d/10-prefix.conf"
  systemctl daemon-reload
  systemctl enable --quiet "$unit_name.service"
  systemctl restart "$unit_name.service"
  if ! stays_up systemd_pid; then
    journalctl -u "$unit_name.service" -n 30 --no-pager >&2 || true
    fail 12 "the agent did not stay up under systemd ($unit_name.service); its last journal lines are above"
  fi
  say "running under systemd as $unit_name.service"
else
  if command -v systemctl >/dev/null && [ -f "/etc/systemd/system/$unit_name.service" ]; then
    systemctl disable --now --quiet "$unit_name.service" 2>/dev/null || true
  fi
  stop_supervisor
  setsid "$prefix/libexec/supervise-agent.sh" --prefix "$prefix" </dev/null >>"$prefix/log/supervisor.log" 2>&1 &
  if ! stays_up supervised_pid; then
    tail -n 30 "$prefix/log/agent.log" >&2 2>/dev/null || true
    fail 12 "the agent did not stay up under the supervisor (its last log lines are above; the supervisor keeps retrying, uninstall-agent.sh stops it)"
  fi
  say "running under supervise-agent.sh (pid $(cat "$prefix/run/supervisor.pid")); log: $prefix/log/agent.log"
fi
echo "OCORE_RESULT mode=$mode"
