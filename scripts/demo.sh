#!/usr/bin/env bash
# The main job: set up, build, check the standard maps and each example with
# `duetc check` and run their map unit tests with `duetc test` (through
# generated code), then run the quickstart (examples/quickstart/run.sh):
# initial sync and live edits between two SQLite databases. Each example
# directory with map files is a module of its own. Exits non-zero when the
# build, a check, a test or the quickstart fails.
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
if [[ ${failed} -ne 0 ]]; then
  echo "demo: FAILED - see the output above"
  exit 1
fi
echo "demo: ${#modules[@]} modules checked clean and their map tests pass"

DUET_BUILD_DIR="${BUILD_DIR}" bash "${ROOT}/examples/quickstart/run.sh"
