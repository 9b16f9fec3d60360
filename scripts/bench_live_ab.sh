#!/usr/bin/env bash
# Live latency of two builds side by side at the same load: for each run,
# build A then build B each syncs ROWS customers (bench/sync/customers.duet of
# its own checkout, compiled by its own duetc), then `duet run` while
# duet_sync_bench writes single-row transactions on fo at 1,000/s for SECS
# seconds; fo commit -> seen on ce, p50 .. max, with the load average. Used
# to tell a regression from the load of a shared machine
# (docs/performance.md).
#
#   scripts/bench_live_ab.sh CHECKOUT_A CHECKOUT_B
#
# Each checkout must have been built in CHECKOUT/build (duet, duetc); the
# application side is this checkout's build/bench/sync/duet_sync_bench.
#   DUET_AB_ROWS (default 20000), DUET_AB_SECONDS (10), DUET_AB_RUNS (3),
#   DUET_AB_DIR scratch directory (default /tmp/duet-bench-live-ab; emptied)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="${ROOT}/build/bench/sync/duet_sync_bench"
ROWS="${DUET_AB_ROWS:-20000}"
SECS="${DUET_AB_SECONDS:-10}"
RUNS="${DUET_AB_RUNS:-3}"
WORK="${DUET_AB_DIR:-/tmp/duet-bench-live-ab}"
if [[ $# -ne 2 ]]; then
  echo "usage: $0 CHECKOUT_A CHECKOUT_B" >&2
  exit 2
fi
for checkout in "$@"; do
  for tool in build/runtime/cli/duet build/compiler/driver/duetc; do
    [[ -x "${checkout}/${tool}" ]] || { echo "bench_live_ab: no ${checkout}/${tool}" >&2; exit 2; }
  done
done
[[ -x "${APP}" ]] || { echo "bench_live_ab: no ${APP}; build this checkout first" >&2; exit 2; }

# One measurement: $1 label, $2 checkout.
one() {
  local dir="${WORK}/$1"
  rm -rf "${dir}"
  mkdir -p "${dir}"
  cd "${dir}"
  "$2/build/compiler/driver/duetc" compile "$2/bench/sync/customers.duet" -o bench.duetb \
    >compile.log 2>&1
  printf '{ "bundle": "bench.duetb", "systems": { "fo": "sqlite:fo.db", "ce": "sqlite:ce.db" },
  "state": "sqlite:state.db" }\n' >sync.json
  "${APP}" schema fo.db ce.db
  "${APP}" generate fo.db "${ROWS}" >/dev/null
  "$2/build/runtime/cli/duet" install -c sync.json >install.log 2>&1
  "$2/build/runtime/cli/duet" run -c sync.json --once >initial.log 2>&1
  sqlite3 ce.db "CREATE INDEX bench_probe ON bench_account (msdyn_modifiedseq)"
  "$2/build/runtime/cli/duet" run -c sync.json --metrics-port 0 >live.log 2>&1 &
  local pid=$!
  # Started once it serves /metrics (it prints the address), so that the
  # first changes do not measure the start.
  for _ in $(seq 600); do
    grep -q '/metrics' live.log && break
    kill -0 "${pid}" 2>/dev/null || { cat live.log >&2; exit 1; }
    sleep 0.05
  done
  "${APP}" live fo.db ce.db 1000 "${SECS}" >live.out
  kill "${pid}"
  wait "${pid}" || true
  echo "$1 load $(cut -d' ' -f1 /proc/loadavg): $(sed -n 's/.*seen on ce: //p' live.out)"
}

echo "bench_live_ab: A = $1, B = $2; ${RUNS} runs of ${SECS} s at 1,000 changes/s, ${ROWS} rows"
for _ in $(seq "${RUNS}"); do
  one A "$1"
  one B "$2"
done
