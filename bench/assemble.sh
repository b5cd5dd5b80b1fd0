#!/usr/bin/env bash
# Rebuilds bench/README.md from the header and every bench/results/<area>.md (in a fixed order).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
{
  cat README.head.md
  for area in records producer consumer client privacy schemas observability; do
    echo
    # Each area's top heading becomes a level-2 heading here; deeper headings shift down one level.
    sed -E 's/^(#+) /#\1 /' "results/$area.md"
  done
} > README.md
