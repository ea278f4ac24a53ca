#!/usr/bin/env bash
# Lints every shell file that runs on hosts or in development: deploy/**/*.sh and scripts/*.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not installed: run scripts/install-system-packages.sh (or apt-get install shellcheck)." >&2
  exit 1
fi
mapfile -t files < <(find deploy scripts -name '*.sh' -type f | sort)
shellcheck --external-sources "${files[@]}"
echo "shellcheck: ${#files[@]} files clean."
