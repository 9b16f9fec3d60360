#!/usr/bin/env bash
# Builds the benchmarks in Release and measures `duetc check`:
#   1. check_bench (Google Benchmark): the front end in-process on a generated
#      10,000-line map file, side by side with the floors under it, and on the
#      repository's map files (see bench/check_bench.cc);
#   2. the real duetc binary, as a user runs it: `duetc check` on the same
#      generated file written to /tmp, and on each module of the repository
#      (stdlib-maps/, examples/*/), each 5 times after one untimed warm-up
#      run; the median is reported.
# Numbers go to stdout; docs/performance.md records them with the machine.
# Assumes scripts/setup.sh has run.
#   DUET_BENCH_BUILD_DIR  build directory (default: build-bench)
#   DUET_BENCH_JOBS       parallel compile jobs (default: 2)
# Extra arguments are passed to check_bench instead of the default
# --benchmark_repetitions=5 --benchmark_display_aggregates_only=true (the
# machine is shared, so medians of repetitions are the figures to quote).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
# shellcheck source=scripts/lib.sh
source "${ROOT}/scripts/lib.sh"

BUILD_DIR="${DUET_BENCH_BUILD_DIR:-build-bench}"
JOBS="${DUET_BENCH_JOBS:-2}"
RUNS=5
LINES=10000
GENERATED="/tmp/duet-bench-${LINES}.duet"
DUETC="${BUILD_DIR}/compiler/driver/duetc"

mkdir -p "${BUILD_DIR}"

# Warnings are not errors here: GCC 12 at -O3 reports false -Wrestrict
# positives inside libstdc++'s std::string (GCC bug 105329).
echo "bench: configure ${BUILD_DIR} (Release)"
run_logged "${BUILD_DIR}/configure.log" \
  cmake -S "${ROOT}" -B "${BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DDUET_BUILD_TESTS=OFF -DDUET_BUILD_BENCH=ON -DDUET_WERROR=OFF
echo "bench: build check_bench, duet_gen_map, duetc (${JOBS} jobs)"
run_logged "${BUILD_DIR}/build.log" \
  cmake --build "${BUILD_DIR}" -j "${JOBS}" --target check_bench transform_bench duet_gen_map duetc

echo "bench: machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
  "$(. /etc/os-release && echo "${PRETTY_NAME}"), $(c++ --version | head -n 1)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "bench: [1/3] check_bench"
bench_args=("$@")
if [[ ${#bench_args[@]} -eq 0 ]]; then
  bench_args=(--benchmark_repetitions=5 --benchmark_display_aggregates_only=true)
fi
"${BUILD_DIR}/bench/check_bench" --benchmark_out="${BUILD_DIR}/check_bench.json" \
  --benchmark_out_format=json "${bench_args[@]}"
echo

# Runs `duetc check ARGS...` RUNS times (after a warm-up) under /usr/bin/time
# and prints the median wall, user and system seconds and the median peak RSS.
time_duetc() {
  local label="$1"
  shift
  local times="${BUILD_DIR}/time-${label//\//_}.txt"
  : >"${times}"
  "${DUETC}" check --quiet "$@" >/dev/null 2>&1 || {
    echo "bench: duetc check $* failed:" >&2
    "${DUETC}" check "$@" >&2 || true
    exit 1
  }
  for _ in $(seq "${RUNS}"); do
    /usr/bin/time -f '%e %U %S %M' -a -o "${times}" "${DUETC}" check --quiet "$@" >/dev/null 2>&1
  done
  local median=$(((RUNS + 1) / 2))
  col() { sort -g -k"$1","$1" "${times}" | sed -n "${median}p" | cut -d' ' -f"$1"; }
  printf 'bench: %-28s median of %d: %ss wall, %ss user, %ss sys, %s MiB peak RSS (all wall: %s)\n' \
    "${label}" "${RUNS}" "$(col 1)" "$(col 2)" "$(col 3)" "$(($(col 4) / 1024))" \
    "$(cut -d' ' -f1 "${times}" | sort -g | tr '\n' ' ' | sed 's/ $//')"
}

echo "bench: [2/3] duetc check, ${RUNS} runs each"
"${BUILD_DIR}/bench/duet_gen_map" "${LINES}" "${GENERATED}"
echo "bench: generated ${GENERATED}: $(wc -l <"${GENERATED}") lines, $(wc -c <"${GENERATED}") bytes"
time_duetc "generated-${LINES}-lines" "${GENERATED}"
# Each module as demo.sh checks it: stdlib-maps/ and every examples/*/
# directory, one duetc run each.
modules=()
for dir in stdlib-maps examples/*/; do
  dir="${dir%/}"
  if [[ -n "$(find "${dir}" -type f -name '*.duet' -print -quit 2>/dev/null)" ]]; then modules+=("${dir}"); fi
done
for module in "${modules[@]}"; do
  time_duetc "${module}" "${module}"
done
[[ ${#modules[@]} -gt 0 ]] || echo "bench: no map files in stdlib-maps/ or examples/; skipped"
echo "bench: goal: duetc check on a generated 10,000-line map file takes well under a second"

echo
echo "bench: [3/3] transform_bench (generated code vs interpreter vs plain copy; compile and load)"
"${BUILD_DIR}/bench/transform_bench" --benchmark_out="${BUILD_DIR}/transform_bench.json" \
  --benchmark_out_format=json --benchmark_repetitions=3 --benchmark_display_aggregates_only=true
echo "bench: goals: generated code >= 20x the interpreter and within 3x of the plain copy;"
echo "bench:        loading the stdlib bundle under 200 ms cold, under 20 ms warm"
