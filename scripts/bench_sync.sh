#!/usr/bin/env bash
# Measures the sync runtime (issue 4) against its goals, side by side with the
# baselines, in one run on this machine:
#   1. initial sync of ROWS customers (bench/sync/customers.duet, 26 mapped
#      columns) from fo.db into ce.db with `duet run --once`, vs the plain SQL
#      baseline (ATTACH + INSERT INTO ... SELECT of the same rows and columns),
#      run before and after duet; peak RSS of duet with /usr/bin/time;
#   2. idle CPU: the CPU seconds `duet run` uses over IDLE seconds with nothing
#      to do (from /proc/PID/stat); then live latency: single-row transactions
#      on fo at 1,000/s while it runs; fo commit -> the change seen on ce, p50
#      and p99; and how long duet's batches held each database's write lock
#      (p99 of duet_write_lock_held_seconds from its /metrics, over the
#      latency and throughput runs);
#   3. sustained throughput: single-row transactions on fo as fast as the
#      generator can for FLOOD seconds; how fast ce catches up;
#   4. capture overhead: application inserts and updates on a table with
#      duet's capture (after `duet install`) vs the same table without,
#      RUNS runs each, interleaved; paired medians (of wall-clock and of CPU
#      time rates).
# The application side is bench/sync/duet_sync_bench (see its header comment).
# Numbers go to stdout; docs/performance.md records them with the machine.
# Assumes scripts/setup.sh has run.
#   DUET_BENCH_BUILD_DIR   build directory (default: build-bench-sync)
#   DUET_BENCH_JOBS        parallel compile jobs (default: 2)
#   DUET_BENCH_DIR         scratch directory for the databases (default:
#                          /tmp/duet-bench-sync; emptied first; ~1.5 GB)
#   DUET_BENCH_ROWS        customers for the initial sync (default: 1000000)
#   DUET_BENCH_IDLE_SECONDS  idle CPU measurement (default: 60)
#   DUET_BENCH_LIVE_SECONDS  latency run (default: 30)
#   DUET_BENCH_FLOOD_SECONDS throughput run (default: 20)
#   DUET_BENCH_DRAIN_ROWS  single-row changes in the backlog-drain run
#                          (default: 50000)
#   DUET_BENCH_CAPTURE_ROWS  rows per capture-overhead phase (default: 100000)
#   DUET_BENCH_RUNS        capture-overhead runs per variant (default: 5)
#   DUET_BENCH_INITIAL_ONLY  1: stop after the initial sync measurement
#   DUET_BENCH_PREBUILT    a build directory whose duet, duetc and
#                          duet_sync_bench to use instead of building (to
#                          compare two builds on the same machine)
#   DUET_BENCH_PERF        1: also record `perf record -g` profiles of duet
#                          (initial sync and the throughput run) in the
#                          scratch directory (needs linux-perf)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
# shellcheck source=scripts/lib.sh
source "${ROOT}/scripts/lib.sh"

BUILD_DIR="$(realpath -m "${DUET_BENCH_BUILD_DIR:-build-bench-sync}")"
JOBS="${DUET_BENCH_JOBS:-2}"
WORK="${DUET_BENCH_DIR:-/tmp/duet-bench-sync}"
ROWS="${DUET_BENCH_ROWS:-1000000}"
IDLE_SECONDS="${DUET_BENCH_IDLE_SECONDS:-60}"
LIVE_SECONDS="${DUET_BENCH_LIVE_SECONDS:-30}"
FLOOD_SECONDS="${DUET_BENCH_FLOOD_SECONDS:-20}"
DRAIN_ROWS="${DUET_BENCH_DRAIN_ROWS:-50000}"
CAPTURE_ROWS="${DUET_BENCH_CAPTURE_ROWS:-100000}"
RUNS="${DUET_BENCH_RUNS:-5}"
PERF="${DUET_BENCH_PERF:-0}"
DUET="${BUILD_DIR}/runtime/cli/duet"
DUETC="${BUILD_DIR}/compiler/driver/duetc"
APP="${BUILD_DIR}/bench/sync/duet_sync_bench"

load() { cut -d' ' -f1-3 /proc/loadavg; }

if [[ -n "${DUET_BENCH_PREBUILT:-}" ]]; then
  BUILD_DIR="$(realpath "${DUET_BENCH_PREBUILT}")"
  DUET="${BUILD_DIR}/runtime/cli/duet"
  DUETC="${BUILD_DIR}/compiler/driver/duetc"
  APP="${BUILD_DIR}/bench/sync/duet_sync_bench"
  echo "bench_sync: using the binaries of ${BUILD_DIR} ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' \
    "${BUILD_DIR}/CMakeCache.txt"))"
else
  mkdir -p "${BUILD_DIR}"
  # Warnings are not errors here (GCC 12 -O3 false -Wrestrict positives, as
  # in scripts/bench.sh).
  echo "bench_sync: configure ${BUILD_DIR} (Release)"
  run_logged "${BUILD_DIR}/configure.log" \
    cmake -S "${ROOT}" -B "${BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DDUET_BUILD_TESTS=OFF -DDUET_BUILD_BENCH=ON -DDUET_WERROR=OFF
  echo "bench_sync: build duet, duetc, duet_sync_bench (${JOBS} jobs)"
  run_logged "${BUILD_DIR}/build.log" \
    cmake --build "${BUILD_DIR}" -j "${JOBS}" --target duet duetc duet_sync_bench
fi

echo "bench_sync: machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
  "$(. /etc/os-release && echo "${PRETTY_NAME}"), $(c++ --version | head -n 1)," \
  "SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?'), load average $(load)"

rm -rf "${WORK}"
mkdir -p "${WORK}"
cd "${WORK}"
echo "bench_sync: scratch directory ${WORK} ($(df -h --output=source,fstype . | tail -n 1 | tr -s ' '))"
run_logged compile.log "${DUETC}" compile "${ROOT}/bench/sync/customers.duet" -o bench.duetb
cat >sync.json <<'EOF'
{ "bundle": "bench.duetb", "systems": { "fo": "sqlite:fo.db", "ce": "sqlite:ce.db" },
  "state": "sqlite:state.db" }
EOF

# Starts `perf record -g` on process $1 into $2 when DUET_BENCH_PERF=1.
perf_pid=""
perf_start() {
  if [[ "${PERF}" == 1 ]]; then
    perf record -g -F 499 -o "$2" -p "$1" >/dev/null 2>&1 &
    perf_pid=$!
  fi
}
perf_stop() {
  if [[ -n "${perf_pid}" ]]; then
    kill -INT "${perf_pid}" 2>/dev/null || true
    wait "${perf_pid}" 2>/dev/null || true
    perf_pid=""
  fi
}
# The pid of the duet process under the /usr/bin/time process $1.
child_of() {
  local c=""
  for _ in $(seq 100); do
    c="$(pgrep -P "$1" || true)"
    [[ -n "${c}" ]] && break
    sleep 0.05
  done
  echo "${c}"
}

echo
echo "bench_sync: [1/4] initial sync of ${ROWS} customers, fo.db -> ce.db (load $(load))"
"${APP}" schema fo.db ce.db
"${APP}" schema - baseline1.db
"${APP}" schema - baseline2.db
"${APP}" generate fo.db "${ROWS}" | sed 's/^/bench_sync: /'
echo "bench_sync: fo.db $(du -m fo.db | cut -f1) MB"
b1="$("${APP}" baseline fo.db baseline1.db)"
echo "bench_sync: ${b1} (before duet)"
run_logged install.log "${DUET}" install -c sync.json
/usr/bin/time -f '%e %U %S %M' -o initial.time "${DUET}" run -c sync.json --once \
  >initial.log 2>&1 &
time_pid=$!
perf_start "$(child_of "${time_pid}")" perf-initial.data
wait "${time_pid}" || {
  tail -n 20 initial.log >&2
  echo "bench_sync: duet run --once failed" >&2
  exit 1
}
perf_stop
b2="$("${APP}" baseline fo.db baseline2.db)"
echo "bench_sync: ${b2} (after duet)"
read -r wall user sys rss <initial.time
echo "bench_sync: duet run --once: ${ROWS} rows in ${wall} s wall (${user} s user, ${sys} s sys)," \
  "peak RSS $((rss / 1024)) MB; load $(load)"
grep -v 'rows (' initial.log | sed 's/^/bench_sync:   /' || true
"${APP}" compare ce.db baseline1.db | sed 's/^/bench_sync: duet vs baseline output: /'
echo "bench_sync: state.db $(du -m state.db | cut -f1) MB, ce.db $(du -m ce.db | cut -f1) MB," \
  "baseline1.db $(du -m baseline1.db | cut -f1) MB"
rate() { sed -n 's/.* \([0-9]*\) rows\/s$/\1/p' <<<"$1"; }
awk -v rows="${ROWS}" -v wall="${wall}" -v b1="$(rate "${b1}")" -v b2="$(rate "${b2}")" \
  -v rss="${rss}" 'BEGIN {
    d = rows / wall; b = (b1 > b2 ? b1 : b2);
    printf "bench_sync: RESULT initial sync: duet %.0f rows/s, baseline %.0f rows/s (best of %.0f, %.0f):" \
           " %.1f%% of the baseline (goal >= 30%%: %s); peak RSS %.0f MB (goal < 200 MB: %s)\n",
           d, b, b1, b2, 100 * d / b, (d >= 0.3 * b ? "met" : "MISSED"), rss / 1024,
           (rss / 1024 < 200 ? "met" : "MISSED") }'
rm -f baseline2.db*
# The floor: the SQLite work alone that any row-at-a-time sync with duet's
# guarantees does (bench/sync/sync_bench.cc, `floor`), no engine.
"${APP}" schema - floor_ce.db
fl="$("${APP}" floor fo.db floor_ce.db floor_state.db)"
echo "bench_sync: ${fl}"
"${APP}" compare floor_ce.db baseline1.db | sed 's/^/bench_sync: floor vs baseline output: /'
awk -v rows="${ROWS}" -v wall="${wall}" -v b1="$(rate "${b1}")" -v b2="$(rate "${b2}")" \
  -v f="$(rate "${fl}")" 'BEGIN {
    d = rows / wall; b = (b1 > b2 ? b1 : b2);
    printf "bench_sync: RESULT initial sync floor: %.0f rows/s = %.1f%% of the baseline;" \
           " duet runs at %.0f%% of the floor\n", f, 100 * f / b, 100 * d / f }'
rm -f floor_ce.db* floor_state.db*
if [[ "${DUET_BENCH_INITIAL_ONLY:-0}" == 1 ]]; then
  exit 0
fi

echo
# The probe's index: it finds each change's stamp on ce (bench/sync/sync_bench.cc).
sqlite3 ce.db "CREATE INDEX bench_probe ON bench_account (msdyn_modifiedseq)"
/usr/bin/time -f '%e %U %S %M' -o live.time "${DUET}" run -c sync.json --metrics-port 0 \
  >live.log 2>&1 &
time_pid=$!
duet_pid="$(child_of "${time_pid}")"
sleep 2
# utime + stime of process $1, in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
    "/proc/$1/stat"
}
echo "bench_sync: [2/4] idle: duet run with nothing to do for ${IDLE_SECONDS} s (load $(load))"
idle_before="$(cpu_seconds "${duet_pid}")"
sleep "${IDLE_SECONDS}"
idle_after="$(cpu_seconds "${duet_pid}")"
awk -v a="${idle_before}" -v b="${idle_after}" -v s="${IDLE_SECONDS}" 'BEGIN {
  printf "bench_sync: idle duet run: %.2f CPU s in %d s (%.2f%% of a core)\n", b - a, s,
    100 * (b - a) / s }'
echo "bench_sync: live latency at 1,000 changes/s for ${LIVE_SECONDS} s (load $(load))"
"${APP}" live fo.db ce.db 1000 "${LIVE_SECONDS}" | sed 's/^/bench_sync: /'

echo
echo "bench_sync: [3/4] sustained throughput: single-row transactions on fo as fast as possible" \
  "for ${FLOOD_SECONDS} s (load $(load))"
perf_start "${duet_pid}" perf-flood.data
"${APP}" flood fo.db ce.db "${FLOOD_SECONDS}" | sed 's/^/bench_sync: /'
perf_stop
# p99 of how long duet's batches held each database's write lock: the upper
# bound of the histogram bucket that holds it (at most twice the value).
metrics_url="$(grep -o 'http://[0-9.:]*/metrics' live.log | head -n 1)"
python3 -c "import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1]).read().decode(), end='')" "${metrics_url}" >live.metrics ||
  true
awk -F'[{}" ]+' '/^duet_write_lock_held_seconds_bucket/ {
    sys = $3; le = $5; n = $NF; bound[sys, ++k[sys]] = le; cum[sys, k[sys]] = n; total[sys] = n }
  END { for (s in total) { for (i = 1; i <= k[s]; ++i) if (cum[s, i] >= 0.99 * total[s]) break
    printf "bench_sync: write lock held by duet on %s: p99 <= %s s over %d batches\n", s,
      bound[s, i], total[s] } }' live.metrics
kill -TERM "${duet_pid}"
wait "${time_pid}" || true
read -r wall user sys rss <live.time
echo "bench_sync: duet run (live, both runs): ${wall} s wall, ${user} s user, ${sys} s sys," \
  "peak RSS $((rss / 1024)) MB; load $(load)"
tail -n 1 live.log | sed 's/^/bench_sync:   /'
"${DUET}" status -c sync.json | sed 's/^/bench_sync:   /'

# The flood's rate is bounded by the generator, which shares the 2 cores with
# duet. So also: a backlog of single-row application transactions made while
# duet is stopped, then drained by `duet run --once` with the cores to itself.
echo
echo "bench_sync: [3b] backlog drain: ${DRAIN_ROWS} single-row update transactions on fo while" \
  "duet is stopped, then duet run --once (load $(load))"
{
  echo "PRAGMA synchronous=NORMAL;"
  seq 1 "${DRAIN_ROWS}" |
    awk '{ printf "UPDATE BenchCustomer SET ORGANIZATIONNAME = ORGANIZATIONNAME || %c.%c WHERE RECID = %d;\n", 39, 39, $1 }'
} >drain.sql
sqlite3 fo.db <drain.sql
/usr/bin/time -f '%e %U %S %M' -o drain.time "${DUET}" run -c sync.json --once >drain.log 2>&1
read -r wall user sys rss <drain.time
tail -n 1 drain.log | sed 's/^/bench_sync:   /'
awk -v n="${DRAIN_ROWS}" -v w="${wall}" -v u="${user}" -v s="${sys}" 'BEGIN {
  printf "bench_sync: RESULT backlog drain: %d single-row changes reconciled in %.2f s (%.2f s user," \
         " %.2f s sys): %.0f changes/s (goal >= 15000: %s)\n", n, w, u, s, n / w,
         (n / w >= 15000 ? "met" : "MISSED") }'

echo
echo "bench_sync: [4/4] capture overhead: ${CAPTURE_ROWS} inserts and updates per phase," \
  "${RUNS} runs with and without capture, interleaved (load $(load))"
mkdir -p capture
cat >capture/sync.json <<'EOF'
{ "bundle": "../bench.duetb", "systems": { "fo": "sqlite:fo.db", "ce": "sqlite:ce.db" },
  "state": "sqlite:state.db" }
EOF
: >capture.txt
for run in $(seq "${RUNS}"); do
  for variant in plain captured; do
    rm -f capture/*.db*
    "${APP}" schema capture/fo.db capture/ce.db
    if [[ "${variant}" == captured ]]; then
      run_logged capture-install.log "${DUET}" install -c capture/sync.json
    fi
    "${APP}" capture capture/fo.db "${CAPTURE_ROWS}" | sed "s/^capture /${variant} /" >>capture.txt
  done
done
# Paired medians: per run, plain's rate over captured's (the two ran one
# after the other), then the median of those ratios; of wall-clock rates and
# of CPU-time rates (steadier when other work shares the cores).
python3 - capture.txt <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    variant, phase, wall, cpu = line.split()
    rates.setdefault((variant, phase), []).append((float(wall), float(cpu)))
for phase in ("insert_one_txn", "update_one_txn", "insert_single", "update_single"):
    plain, captured = rates[("plain", phase)], rates[("captured", phase)]
    for k, what in ((0, "wall"), (1, "cpu")):
        ratios = [p[k] / c[k] for p, c in zip(plain, captured)]
        r = statistics.median(ratios)
        print("bench_sync: RESULT capture %-15s %-4s plain %7.0f rows/s, captured %7.0f rows/s"
              " (medians): paired median %.2fx slower (goal <= 1.3x: %s); ratios: %s"
              % (phase, what, statistics.median(x[k] for x in plain),
                 statistics.median(x[k] for x in captured), r, "met" if r <= 1.3 else "MISSED",
                 " ".join("%.2f" % x for x in ratios)))
PY
echo
echo "bench_sync: done; load average $(load). Databases and logs in ${WORK}."
