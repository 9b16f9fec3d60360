#!/usr/bin/env bash
# Builds the front-end fuzzer (clang, libFuzzer + AddressSanitizer +
# UndefinedBehaviorSanitizer) in a build directory of its own and runs it for
# a fixed time on a corpus seeded from every map file in the repository.
# Exits non-zero on any crash, leak, timeout, out-of-memory or sanitizer
# report, printing the tail of the log and the path of the saved input.
# Assumes scripts/setup.sh has run (clang and libclang-rt-14-dev installed).
#
#   DUET_FUZZ_BUILD_DIR  build directory (default: build-fuzz), relative to the repo root
#   DUET_FUZZ_SECONDS    how long to fuzz (default: 60)
#   DUET_FUZZ_JOBS       parallel compile jobs (default: 2)
#   DUET_FUZZ_ARGS       extra libFuzzer flags, after the defaults (e.g. -seed=1)
#
# Reproduce a saved input:  build-fuzz/tests/fuzz/front_end_fuzzer CRASH_FILE
# Minimise it:              build-fuzz/tests/fuzz/front_end_fuzzer -minimize_crash=1 \
#                             -max_total_time=60 CRASH_FILE
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
# shellcheck source=scripts/lib.sh
source "${ROOT}/scripts/lib.sh"

BUILD_DIR="${DUET_FUZZ_BUILD_DIR:-build-fuzz}"
SECONDS_TO_RUN="${DUET_FUZZ_SECONDS:-60}"
JOBS="${DUET_FUZZ_JOBS:-2}"
FUZZER="${BUILD_DIR}/tests/fuzz/front_end_fuzzer"
DICT="${ROOT}/tests/fuzz/duet.dict"

for tool in clang clang++ cmake ninja; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "fuzz: ${tool} not found; run scripts/setup.sh first" >&2
    exit 1
  fi
done

mkdir -p "${BUILD_DIR}"
# Output of each step goes to a log in the build directory and is shown only
# when the step fails (run_logged, scripts/lib.sh).

# Clang rejects Debian's antlr4 4.9 runtime headers: dfa::Vocabulary has
# `std::vector<std::string> const` members without initializers, so its
# defaulted constructor is deleted, and misc/InterpreterDataReader.h calls it
# (GCC accepts this). A copy of the headers with `{}` initializers on those
# members (same layout, so the installed runtime library still matches) is
# put first on the include path; -I is searched before the -isystem
# directory the antlr4 CMake package adds.
ANTLR_INCLUDE=/usr/include/antlr4-runtime
SHADOW="${ROOT}/${BUILD_DIR}/antlr4-runtime-clang"
if [[ ! -f "${ANTLR_INCLUDE}/Vocabulary.h" ]]; then
  echo "fuzz: ${ANTLR_INCLUDE}/Vocabulary.h not found; run scripts/setup.sh first" >&2
  exit 1
fi
rm -rf "${SHADOW}"
cp -R "${ANTLR_INCLUDE}" "${SHADOW}"
sed -i -E 's/^(\s*std::vector<std::string> const _(literal|symbolic|display)Names);/\1{};/' "${SHADOW}/Vocabulary.h"
if [[ "$(grep -c 'Names{};' "${SHADOW}/Vocabulary.h")" -ne 3 ]]; then
  echo "fuzz: could not patch ${SHADOW}/Vocabulary.h for clang (antlr4 runtime changed?)" >&2
  exit 1
fi

# -O1 without NDEBUG: fast enough to fuzz, assertions stay on, and stack
# traces stay readable. The sanitizer flags reach every library, the
# generated ANTLR parser included; the fuzzer target adds -fsanitize=fuzzer.
SANITIZE="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
SANITIZE+=" -I${SHADOW}"
echo "fuzz: configure ${BUILD_DIR} (clang, libFuzzer, ASan, UBSan)"
run_logged "${BUILD_DIR}/configure.log" \
  env CC=clang CXX=clang++ cmake -S "${ROOT}" -B "${BUILD_DIR}" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS="${SANITIZE}" \
  -DDUET_FUZZ=ON -DDUET_BUILD_BENCH=OFF -DDUET_WERROR=OFF

echo "fuzz: build front_end_fuzzer (${JOBS} jobs)"
run_logged "${BUILD_DIR}/build.log" cmake --build "${BUILD_DIR}" -j "${JOBS}" --target front_end_fuzzer

# Seed corpus: every map file in the repository, copied into a fresh
# directory (libFuzzer adds the inputs it finds interesting to it).
corpus="$(mktemp -d "${TMPDIR:-/tmp}/duet-fuzz-corpus.XXXXXX")"
trap 'rm -rf "${corpus}"' EXIT
seeds=0
while IFS= read -r -d '' file; do
  cp "${file}" "${corpus}/seed-$(printf '%s' "${file}" | sha1sum | cut -c1-16).duet"
  seeds=$((seeds + 1))
done < <(find examples stdlib-maps tests -type f -name '*.duet' -print0 2>/dev/null)

artifacts="${ROOT}/${BUILD_DIR}/artifacts/"
mkdir -p "${artifacts}"
log="${BUILD_DIR}/fuzz.log"
echo "fuzz: run for ${SECONDS_TO_RUN}s on ${seeds} seed file(s); log: ${log}"
rc=0
"${FUZZER}" \
  -max_total_time="${SECONDS_TO_RUN}" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
  -dict="${DICT}" -artifact_prefix="${artifacts}" -print_final_stats=1 \
  ${DUET_FUZZ_ARGS:-} "${corpus}" >"${log}" 2>&1 || rc=$?

# libFuzzer exits non-zero on a crash, leak, timeout or OOM; a sanitizer
# report that did not stop the run would still be a failure.
if [[ ${rc} -eq 0 ]] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "${log}"; then
  rc=1
fi

runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "${log}" | grep -oE '[0-9]+$' || true)"
last="$(grep -E '^#[0-9]+' "${log}" | tail -n 1 || true)"
cov="$(grep -oE 'cov: [0-9]+' <<<"${last}" | grep -oE '[0-9]+' || true)"
corp="$(grep -oE 'corp: [0-9]+' <<<"${last}" | grep -oE '[0-9]+' || true)"

if [[ ${rc} -ne 0 ]]; then
  echo "fuzz: ---- last lines of ${log} ----" >&2
  tail -n 60 "${log}" >&2
  echo "fuzz: ----" >&2
  crash="$(grep -oE "Test unit written to [^ ]+" "${log}" | tail -n 1 | sed 's/Test unit written to //' || true)"
  [[ -n "${crash}" ]] && echo "fuzz: input saved to ${crash}" >&2
  echo "fuzz: FAILED after ${runs:-?} executions (exit ${rc}); reproduce with: ${FUZZER} ${crash:-CRASH_FILE}" >&2
  exit 1
fi
echo "fuzz: OK - ${runs:-?} executions in ${SECONDS_TO_RUN}s, coverage ${cov:-?} edges, corpus ${corp:-?} inputs, no crash"
