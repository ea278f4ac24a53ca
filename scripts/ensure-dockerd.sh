#!/usr/bin/env bash
# Makes sure a Docker daemon answers on /var/run/docker.sock, starting one only when none runs:
# a second daemon beside a running one can delete the shared docker0 bridge.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "Docker daemon answers."
  exit 0
fi
if ! pgrep -x dockerd >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "No Docker daemon runs and only root can start one: run 'sudo dockerd &' or start the docker service." >&2
    exit 1
  fi
  echo "Starting dockerd (log: /var/log/ocore-dockerd.log)"
  nohup dockerd >/var/log/ocore-dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "Docker daemon answers."
    exit 0
  fi
  sleep 1
done
echo "dockerd did not answer within 60 s; see /var/log/ocore-dockerd.log" >&2
exit 1
