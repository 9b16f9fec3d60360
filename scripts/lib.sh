# Shared by the scripts that build and measure (bench.sh, bench_sync.sh,
# fuzz.sh); sourced, not run.
#
# run_logged LOG COMMAND...: runs COMMAND with its output in LOG, shown only
# when it fails (its last 60 lines), and then stops the script. Messages
# start with the script's name ("fuzz: FAILED: ...").
run_logged() {
  local log="$1"
  shift
  if ! "$@" >"${log}" 2>&1; then
    tail -n 60 "${log}" >&2
    echo "$(basename "$0" .sh): FAILED: $* (full log: ${log})" >&2
    exit 1
  fi
}
