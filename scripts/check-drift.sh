#!/usr/bin/env bash
# Regenerates every generated file (protobuf code, database migrations) and fails when that
# changes anything: generated code is committed and must always match its sources.
set -euo pipefail
cd "$(dirname "$0")/.."

generated=(proto/src/gen server/src/platform/db/migrations)
npm run --silent generate >/dev/null

changes=$(git status --porcelain -- "${generated[@]}")
if [ -n "$changes" ]; then
  echo "Generated files are out of date with their sources:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- "${generated[@]}" >&2
  echo "Run \`npm run generate\` and commit the result." >&2
  exit 1
fi
echo "Generated code and migrations match their sources."
