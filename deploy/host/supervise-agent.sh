#!/usr/bin/env bash
# The supervisor for hosts without systemd (minimal images, containers): runs `ocore-agent run`,
# restarts it whenever it exits (after an upgrade, a crash, a failed connection check) with an
# exponential backoff of 1 s to 60 s, reset once the agent has run for a minute, and runs the
# upgrade rollback helper before every start. install-agent.sh starts it detached:
#
#   setsid supervise-agent.sh --prefix DIR </dev/null >>DIR/log/supervisor.log 2>&1 &
#
# It records its pid in DIR/run/supervisor.pid (a second one for the same prefix exits), the
# agent's in DIR/run/agent.pid, and appends the agent's output to DIR/log/agent.log (rotated to
# agent.log.1 at 10 MiB, checked at each start). SIGTERM stops the agent (it flushes its spool),
# then the supervisor. Limits: nothing starts it again after a reboot unless an init hook calls
# it (see deploy/README.md), and it does not watch itself.
#
# Usage: supervise-agent.sh --prefix DIR
set -euo pipefail

readonly MAX_BACKOFF=60 STABLE_AFTER=60 LOG_MAX_BYTES=$((10 * 1024 * 1024)) STOP_TIMEOUT=30

log() { printf '%s supervise-agent[%d]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$$" "$*"; }

prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:-}"; shift 2 ;;
    *) log "unknown argument \"$1\". Usage: supervise-agent.sh --prefix DIR" >&2; exit 2 ;;
  esac
done
case "$prefix" in
  /*) ;;
  *) log "--prefix must be an absolute directory. Usage: supervise-agent.sh --prefix DIR" >&2; exit 2 ;;
esac

bin="$prefix/bin/ocore-agent"
env_file="$prefix/etc/agent.env"
run_dir="$prefix/run"
agent_log="$prefix/log/agent.log"
mkdir -p "$run_dir" "$prefix/log"

# One supervisor per prefix: the lock is held for the supervisor's lifetime on fd 9.
exec 9>"$run_dir/supervisor.lock"
if ! flock -n 9; then
  log "another supervisor already runs for $prefix (pid $(cat "$run_dir/supervisor.pid" 2>/dev/null || echo unknown)); exiting"
  exit 0
fi
echo "$$" >"$run_dir/supervisor.pid"

# The agent's environment: only OCORE_AGENT_* lines of agent.env, never executed as shell.
agent_environment() {
  local line
  environment=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ LANG=C.UTF-8)
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^OCORE_AGENT_[A-Z0-9_]+=.*$ ]]; then environment+=("$line"); fi
  done <"$env_file"
}

child=""
stopping=""
stop() {
  stopping=1
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    log "stopping the agent (pid $child)"
    kill -TERM "$child" 2>/dev/null || true
    local waited=0
    while kill -0 "$child" 2>/dev/null && [ "$waited" -lt "$STOP_TIMEOUT" ]; do
      sleep 1
      waited=$((waited + 1))
    done
    kill -KILL "$child" 2>/dev/null || true
  fi
  rm -f "$run_dir/agent.pid" "$run_dir/supervisor.pid"
  log "stopped"
  exit 0
}
trap stop TERM INT HUP

backoff=1
log "supervising $bin"
while true; do
  "$prefix/libexec/prestart-agent.sh" --prefix "$prefix" 2>>"$agent_log" || true
  if [ -f "$agent_log" ] && [ "$(stat -c %s "$agent_log")" -gt "$LOG_MAX_BYTES" ]; then
    mv -f "$agent_log" "$agent_log.1"
  fi
  agent_environment
  started=$(date +%s)
  env -i "${environment[@]}" "$bin" run >>"$agent_log" 2>&1 </dev/null 9>&- &
  child=$!
  echo "$child" >"$run_dir/agent.pid"
  status=0
  wait "$child" || status=$?
  # A trapped signal interrupts `wait`; the trap has already stopped everything then.
  [ -z "$stopping" ] || exit 0
  child=""
  rm -f "$run_dir/agent.pid"
  if [ $(($(date +%s) - started)) -ge "$STABLE_AFTER" ]; then backoff=1; fi
  log "the agent exited with status $status; starting it again in ${backoff}s"
  sleep "$backoff" &
  wait $! || true
  backoff=$((backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF : backoff * 2))
done
