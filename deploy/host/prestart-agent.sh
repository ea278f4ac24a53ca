#!/usr/bin/env bash
# Runs before every start of the agent (systemd ExecStartPre, and the supervisor of
# supervise-agent.sh) and rolls a failed self-upgrade back.
#
# The agent's upgrade leaves bin/ocore-agent.upgrade (the marker) next to the new executable and
# the old one as bin/ocore-agent.prev. The new agent deletes the marker once it has reached the
# server; if it has not after MAX_ATTEMPTS starts (it crashes, or cannot connect and restores
# .prev itself), the previous executable is put back here.
#
# Usage: prestart-agent.sh --prefix DIR
set -euo pipefail

readonly MAX_ATTEMPTS=3

log() { printf 'prestart-agent: %s\n' "$*" >&2; }

prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:-}"; shift 2 ;;
    *) log "unknown argument \"$1\". Usage: prestart-agent.sh --prefix DIR"; exit 2 ;;
  esac
done
case "$prefix" in
  /*) ;;
  *) log "--prefix must be an absolute directory. Usage: prestart-agent.sh --prefix DIR"; exit 2 ;;
esac

bin="$prefix/bin/ocore-agent"
prev="$bin.prev"
marker="$bin.upgrade"

roll_back() {
  if [ ! -x "$prev" ]; then
    log "$1, but there is no previous executable ($prev) to go back to; starting $bin as it is"
    rm -f "$marker"
    return
  fi
  mv -f "$prev" "$bin"
  rm -f "$marker"
  log "$1: rolled back to the previous executable ($("$bin" version 2>/dev/null || echo unknown version))"
}

if [ ! -x "$bin" ]; then
  roll_back "$bin is missing or not executable"
  exit 0
fi
[ -f "$marker" ] || exit 0

attempts=$(sed -n 's/^attempts=\([0-9]\{1,3\}\)$/\1/p' "$marker")
attempts=${attempts:-0}
if [ "$attempts" -ge "$MAX_ATTEMPTS" ]; then
  roll_back "the upgraded agent did not reach the server in $attempts starts"
  exit 0
fi
# Rewrite the marker with one more attempt, keeping its other lines.
tmp="$marker.tmp"
{ grep -v '^attempts=' "$marker" || true; printf 'attempts=%d\n' "$((attempts + 1))"; } >"$tmp"
mv -f "$tmp" "$marker"
log "starting the upgraded agent, attempt $((attempts + 1)) of $MAX_ATTEMPTS"
