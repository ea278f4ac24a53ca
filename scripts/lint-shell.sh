#!/usr/bin/env bash
# Lints every shell file that runs on hosts or in development: deploy/**/*.sh, scripts/*.sh and
# bin/ocore-server.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not installed: run scripts/install-system-packages.sh (or apt-get install shellcheck)." >&2
  exit 1
fi
mapfile -t files < <({ find deploy scripts -name '*.sh' -type f; echo bin/ocore-server; } | sort)
shellcheck --external-sources "${files[@]}"
echo "shellcheck: ${#files[@]} files clean."
