#!/usr/bin/env bash
# Builds the fuzzers (clang, libFuzzer + AddressSanitizer +
# UndefinedBehaviorSanitizer) in a build directory of its own and runs each
# for a fixed time: the front end on a corpus seeded from every map file in
# the repository, then the runtime's readers of outside input (configuration,
# bundle manifest, bundle file, error items, stored link bases and RowIds,
# what PostgreSQL capture reads from a server) on the seeds in tests/fuzz/seeds.
# Exits non-zero on any crash, uncaught exception, leak, timeout,
# out-of-memory or sanitizer report, printing the tail of the log and the
# path of the saved input.
# Assumes scripts/setup.sh has run (clang and libclang-rt-14-dev installed).
#
#   DUET_FUZZ_BUILD_DIR       build directory (default: build-fuzz), relative to the repo root
#   DUET_FUZZ_SECONDS         how long to fuzz the front end (default: 60)
#   DUET_FUZZ_READER_SECONDS  how long to fuzz each reader (default: 20)
#   DUET_FUZZ_JOBS            parallel compile jobs (default: 2)
#   DUET_FUZZ_ARGS            extra libFuzzer flags, after the defaults (e.g. -seed=1)
#   DUET_FUZZ_TARGETS         the fuzzers to run (default: all seven)
#
# Reproduce a saved input:  build-fuzz/tests/fuzz/NAME_fuzzer CRASH_FILE
# Minimise it:              build-fuzz/tests/fuzz/NAME_fuzzer -minimize_crash=1 \
#                             -max_total_time=60 CRASH_FILE
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
# shellcheck source=scripts/lib.sh
source "${ROOT}/scripts/lib.sh"

BUILD_DIR="${DUET_FUZZ_BUILD_DIR:-build-fuzz}"
SECONDS_TO_RUN="${DUET_FUZZ_SECONDS:-60}"
READER_SECONDS="${DUET_FUZZ_READER_SECONDS:-20}"
JOBS="${DUET_FUZZ_JOBS:-2}"
TARGETS="${DUET_FUZZ_TARGETS:-front_end_fuzzer config_fuzzer manifest_fuzzer bundle_file_fuzzer error_item_fuzzer stored_state_fuzzer pg_output_fuzzer}"

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

echo "fuzz: build ${TARGETS} (${JOBS} jobs)"
# shellcheck disable=SC2086
run_logged "${BUILD_DIR}/build.log" cmake --build "${BUILD_DIR}" -j "${JOBS}" --target ${TARGETS}

work="$(mktemp -d "${TMPDIR:-/tmp}/duet-fuzz.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
artifacts="${ROOT}/${BUILD_DIR}/artifacts/"
mkdir -p "${artifacts}"

# fuzz NAME SECONDS DICT SEED_FILES...: runs BUILD_DIR/tests/fuzz/NAME on a
# fresh corpus of the seed files (libFuzzer adds the inputs it finds
# interesting to it); exits the script on a failure.
fuzz() {
  local name="$1" seconds="$2" dict="$3"
  shift 3
  local fuzzer="${BUILD_DIR}/tests/fuzz/${name}"
  local corpus="${work}/${name}"
  mkdir -p "${corpus}"
  local seeds=0 file
  for file in "$@"; do
    cp "${file}" "${corpus}/seed-$(printf '%s' "${file}" | sha1sum | cut -c1-16)"
    seeds=$((seeds + 1))
  done
  local log="${BUILD_DIR}/${name}.log"
  echo "fuzz: run ${name} for ${seconds}s on ${seeds} seed file(s); log: ${log}"
  local rc=0
  # shellcheck disable=SC2086
  "${fuzzer}" \
    -max_total_time="${seconds}" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    ${dict:+-dict="${dict}"} -artifact_prefix="${artifacts}${name}-" -print_final_stats=1 \
    ${DUET_FUZZ_ARGS:-} "${corpus}" >"${log}" 2>&1 || rc=$?

  # libFuzzer exits non-zero on a crash (an uncaught exception is one),
  # leak, timeout or OOM; a sanitizer report that did not stop the run would
  # still be a failure.
  if [[ ${rc} -eq 0 ]] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "${log}"; then
    rc=1
  fi

  local runs last cov corp
  runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "${log}" | grep -oE '[0-9]+$' || true)"
  last="$(grep -E '^#[0-9]+' "${log}" | tail -n 1 || true)"
  cov="$(grep -oE 'cov: [0-9]+' <<<"${last}" | grep -oE '[0-9]+' || true)"
  corp="$(grep -oE 'corp: [0-9]+' <<<"${last}" | grep -oE '[0-9]+' || true)"

  if [[ ${rc} -ne 0 ]]; then
    echo "fuzz: ---- last lines of ${log} ----" >&2
    tail -n 60 "${log}" >&2
    echo "fuzz: ----" >&2
    local crash
    crash="$(grep -oE "Test unit written to [^ ]+" "${log}" | tail -n 1 | sed 's/Test unit written to //' || true)"
    [[ -n "${crash}" ]] && echo "fuzz: input saved to ${crash}" >&2
    echo "fuzz: ${name} FAILED after ${runs:-?} executions (exit ${rc}); reproduce with: ${fuzzer} ${crash:-CRASH_FILE}" >&2
    exit 1
  fi
  echo "fuzz: ${name} OK - ${runs:-?} executions in ${seconds}s, coverage ${cov:-?} edges, corpus ${corp:-?} inputs, no crash"
}

SEEDS="${ROOT}/tests/fuzz/seeds"
for target in ${TARGETS}; do
  case "${target}" in
    front_end_fuzzer)
      # Seed corpus: every map file in the repository.
      map_files=()
      while IFS= read -r -d '' file; do map_files+=("${file}"); done \
        < <(find examples stdlib-maps tests -type f -name '*.duet' -print0 2>/dev/null)
      fuzz front_end_fuzzer "${SECONDS_TO_RUN}" "${ROOT}/tests/fuzz/duet.dict" "${map_files[@]}"
      ;;
    config_fuzzer)
      fuzz config_fuzzer "${READER_SECONDS}" "${ROOT}/tests/fuzz/json.dict" "${SEEDS}"/config/*
      ;;
    manifest_fuzzer)
      fuzz manifest_fuzzer "${READER_SECONDS}" "${ROOT}/tests/fuzz/json.dict" "${SEEDS}"/manifest/*
      ;;
    bundle_file_fuzzer)
      fuzz bundle_file_fuzzer "${READER_SECONDS}" ""
      ;;
    error_item_fuzzer)
      fuzz error_item_fuzzer "${READER_SECONDS}" "${ROOT}/tests/fuzz/json.dict"
      ;;
    stored_state_fuzzer)
      fuzz stored_state_fuzzer "${READER_SECONDS}" ""
      ;;
    pg_output_fuzzer)
      fuzz pg_output_fuzzer "${READER_SECONDS}" "" "${SEEDS}"/pg_output/*
      ;;
    *)
      echo "fuzz: unknown target ${target}" >&2
      exit 1
      ;;
  esac
done
