#!/usr/bin/env bash
# Check (default) or apply (--fix) clang-format on every C++ file in the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=check
[[ ${1:-} == --fix ]] && mode=fix
command -v clang-format >/dev/null || { echo "format: clang-format not installed (scripts/install-deps.sh test)" >&2; exit 1; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp' '*.h' '*.cc' | grep -v '^build')
existing=()
for f in "${files[@]}"; do [[ -f $f ]] && existing+=("$f"); done
if ((${#existing[@]} == 0)); then echo "format: no C++ files"; exit 0; fi
if [[ $mode == fix ]]; then
  clang-format -i "${existing[@]}"
  echo "format: formatted ${#existing[@]} files"
else
  if ! clang-format --dry-run -Werror "${existing[@]}"; then
    echo "format: files above need clang-format; run scripts/format.sh --fix" >&2
    exit 1
  fi
  echo "format: ${#existing[@]} files clean"
fi
