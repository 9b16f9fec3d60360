#!/usr/bin/env bash
# The main job: set up, build, then check the standard maps and each example
# with `duetc check` and run their map unit tests with `duetc test` (through
# generated code). Each example directory is a module of its own. Exits
# non-zero when the build, a check or a test fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

BUILD_DIR="${DUET_BUILD_DIR:-build}"
DUETC="${BUILD_DIR}/compiler/driver/duetc"

bash "${ROOT}/scripts/build.sh"

if [[ ! -x "${DUETC}" ]]; then
  echo "demo: ${DUETC} was not built" >&2
  exit 1
fi

modules=(stdlib-maps)
for dir in examples/*/; do
  # The quickstart has no map files of its own: it runs the standard maps.
  compgen -G "${dir}*.duet" >/dev/null && modules+=("${dir%/}")
done

failed=0
for module in "${modules[@]}"; do
  echo
  echo "== ${module}"
  echo "\$ duetc check ${module}"
  if ! "${DUETC}" check "${module}"; then
    failed=1
    continue
  fi
  echo "\$ duetc test ${module}"
  "${DUETC}" test "${module}" || failed=1
done

echo
if [[ ${failed} -eq 0 ]]; then
  echo "demo: OK - ${#modules[@]} modules checked clean and their map tests pass"
  echo "      try: ${DUETC} dump --ir examples/minimal"
else
  echo "demo: FAILED - see the output above"
fi
exit "${failed}"
