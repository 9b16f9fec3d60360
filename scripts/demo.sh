#!/usr/bin/env bash
# The main job: set up, build, then check the standard maps and the examples
# with `duetc check`. Exits non-zero when the build or the check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

BUILD_DIR="${DUET_BUILD_DIR:-build}"
DUETC="${BUILD_DIR}/compiler/driver/duetc"
TARGETS=(stdlib-maps examples)

bash "${ROOT}/scripts/build.sh"

if [[ ! -x "${DUETC}" ]]; then
  echo "demo: ${DUETC} was not built" >&2
  exit 1
fi

nfiles="$({ find "${TARGETS[@]}" -type f -name '*.duet' 2>/dev/null || true; } | wc -l)"
echo "demo: duetc check ${TARGETS[*]} (${nfiles} map file(s))"
echo

log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
rc=0
"${DUETC}" check "${TARGETS[@]}" >"${log}" 2>&1 || rc=$?
cat "${log}"

errors="$(grep -c ': error\[' "${log}" || true)"
warnings="$(grep -c ': warning\[' "${log}" || true)"

echo
case "${rc}" in
  0) echo "demo: OK - ${nfiles} map file(s) checked, no errors, ${warnings} warning(s)" ;;
  1) echo "demo: FAILED - ${nfiles} map file(s) checked, ${errors} error(s), ${warnings} warning(s)" ;;
  2) echo "demo: FAILED - duetc reported a usage or I/O error (exit 2)" ;;
  *) echo "demo: FAILED - duetc exited with status ${rc}" ;;
esac
exit "${rc}"
