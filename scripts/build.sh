#!/usr/bin/env bash
# Sets up the machine, then configures and builds duet with CMake + Ninja.
#   DUET_BUILD_DIR   build directory (default: build), relative to the repo root
#   DUET_WERROR      ON/OFF: warnings in duet's own code are errors (default: OFF for a
#                    new build directory; an existing one keeps its setting, so that
#                    demo.sh after test.sh does not rebuild everything)
#   DUET_SKIP_SETUP  1 to skip scripts/setup.sh (used by test.sh, which runs it itself)
# Extra arguments are passed to the CMake configure step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

BUILD_DIR="${DUET_BUILD_DIR:-build}"
if [[ -z "${DUET_WERROR:-}" && -f "${BUILD_DIR}/CMakeCache.txt" ]]; then
  DUET_WERROR="$(sed -n 's/^DUET_WERROR:[A-Z]*=//p' "${BUILD_DIR}/CMakeCache.txt")"
fi
case "${DUET_WERROR:-OFF}" in
  ON | on | 1 | TRUE | true | YES | yes) WERROR=ON ;;
  OFF | off | 0 | FALSE | false | NO | no | "") WERROR=OFF ;;
  *)
    echo "build: DUET_WERROR must be ON or OFF, got '${DUET_WERROR}'" >&2
    exit 2
    ;;
esac

if [[ "${DUET_SKIP_SETUP:-0}" != 1 ]]; then
  bash "${ROOT}/scripts/setup.sh"
fi

echo "build: configure ${BUILD_DIR} (RelWithDebInfo, DUET_WERROR=${WERROR})"
cmake -S "${ROOT}" -B "${BUILD_DIR}" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDUET_WERROR="${WERROR}" \
  "$@"

JOBS="$(nproc 2>/dev/null || echo 2)"
echo "build: compile with ${JOBS} jobs"
cmake --build "${BUILD_DIR}" -j "${JOBS}"
echo "build: done (${BUILD_DIR})"
