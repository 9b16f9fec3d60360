#!/usr/bin/env bash
# The quickstart (examples/quickstart/run.sh) must keep working, and be safe
# to run twice: it runs twice into the same directory, and each run must
# succeed and show what the README promises.
#   usage: quickstart_test.sh REPO_ROOT BUILD_DIR
set -euo pipefail

ROOT="$1" BUILD_DIR="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT

failures=0
for round in 1 2; do
  if ! DUET_BUILD_DIR="${BUILD_DIR}" DUET_QUICKSTART_DIR="${WORK}/qs" NO_COLOR=1 \
    bash "${ROOT}/examples/quickstart/run.sh" >"${WORK}/out.txt" 2>&1; then
    cat "${WORK}/out.txt" >&2
    echo "FAIL: round ${round}: the quickstart exited non-zero" >&2
    exit 1
  fi
  # Facts each scene must show, as regular expressions over the output.
  for fact in \
    'customers_accounts: initial sync done' \
    '^2625 +2625 *$' \
    '^DE-00001 +Blue Yonder Traders +\+1 555 0001' \
    '^US-09001 +Trey Research +10 +Net30 +25000\.0000' \
    '^usmf +US-09002 +Litware, Inc\. +30 +Organization +en-us +\+1 206 555 0142' \
    '^US-09001 +75000 +\+1 206 555 0199' \
    '^US-09001 +75000\.0000 +\+1 206 555 0199' \
    'customers_accounts +ce +[0-9]+ +string_too_long +1 ' \
    'string_too_long .*\[resolved\]' \
    '^customers_accounts +live +2628 ' \
    '^Done in [0-9]+ s\.'; do
    if ! grep -Eq -- "${fact}" "${WORK}/out.txt"; then
      echo "FAIL: round ${round}: the output does not show: ${fact}" >&2
      failures=$((failures + 1))
    fi
  done
  if [[ -f "${WORK}/qs/duet.pid" ]]; then
    echo "FAIL: round ${round}: duet was left running" >&2
    failures=$((failures + 1))
  fi
done
if [[ ${failures} -ne 0 ]]; then
  echo "--- the last run's output:" >&2
  cat "${WORK}/out.txt" >&2
  exit 1
fi
echo "the quickstart ran twice and showed every scene"
