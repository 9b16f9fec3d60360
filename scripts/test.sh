#!/usr/bin/env bash
# Sets up, builds with warnings as errors, runs every test with ctest, then
# fuzzes (scripts/fuzz.sh) when that script exists. Stops at the first failing
# phase and says which one it was.
#   DUET_BUILD_DIR  build directory (default: build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

BUILD_DIR="${DUET_BUILD_DIR:-build}"
phase=""

on_exit() {
  local rc=$?
  if [[ ${rc} -ne 0 && -n "${phase}" ]]; then
    echo "test: FAILED in phase '${phase}' (exit ${rc})" >&2
  fi
}
trap on_exit EXIT

phase="setup"
echo "test: [1/4] setup"
bash "${ROOT}/scripts/setup.sh"

phase="build"
echo "test: [2/4] build (${BUILD_DIR}, DUET_WERROR=ON)"
DUET_SKIP_SETUP=1 DUET_WERROR=ON DUET_BUILD_DIR="${BUILD_DIR}" bash "${ROOT}/scripts/build.sh"

phase="ctest"
echo "test: [3/4] ctest"
ctest_log="${BUILD_DIR}/ctest-summary.log"
ctest --test-dir "${BUILD_DIR}" --output-on-failure --no-tests=error -j2 \
  | tee "${ctest_log}"

phase="fuzz"
if [[ -f "${ROOT}/scripts/fuzz.sh" ]]; then
  echo "test: [4/4] fuzz"
  bash "${ROOT}/scripts/fuzz.sh"
else
  echo "test: [4/4] fuzz skipped (no scripts/fuzz.sh)"
fi

phase=""
echo "test: all phases passed"
# Repeat ctest's closing line so it is the last test summary in the output.
grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "${ctest_log}" || true
