#!/usr/bin/env bash
# The quickstart: two SQLite databases that look like Finance and Operations
# (fo.db) and Dataverse (ce.db), the standard maps compiled into a bundle,
# initial sync, then application edits on both sides made with the sqlite3
# client while `duet run` keeps the two in sync.
#
# Needs duetc and duet built (scripts/demo.sh builds them, then runs this).
#   DUET_BUILD_DIR       build directory (default: build)
#   DUET_QUICKSTART_DIR  where the databases go (default: BUILD_DIR/quickstart);
#                        everything in it is made anew on each run
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/examples/quickstart"
BUILD_DIR="${DUET_BUILD_DIR:-build}"
[[ "${BUILD_DIR}" = /* ]] || BUILD_DIR="${ROOT}/${BUILD_DIR}"
DUETC="${BUILD_DIR}/compiler/driver/duetc"
DUET="${BUILD_DIR}/runtime/cli/duet"
WORK="${DUET_QUICKSTART_DIR:-${BUILD_DIR}/quickstart}"

for tool in "${DUETC}" "${DUET}"; do
  if [[ ! -x "${tool}" ]]; then
    echo "quickstart: ${tool} is not built; run ./scripts/demo.sh" >&2
    exit 2
  fi
done
if ! command -v sqlite3 >/dev/null; then
  echo "quickstart: the sqlite3 client is missing (apt-get install sqlite3)" >&2
  exit 2
fi

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  BOLD=$'\e[1m' DIM=$'\e[2m' OFF=$'\e[0m'
else
  BOLD="" DIM="" OFF=""
fi

step=0
section() {
  step=$((step + 1))
  echo
  echo "${BOLD}== ${step}. $*${OFF}"
}
note() { echo "   $*"; }
# A command as the reader would type it: tools by name, paths from the root.
shown() {
  local text="$*"
  text="${text//${DUETC}/duetc}"
  text="${text//${DUET}/duet}"
  text="${text//${ROOT}\//}"
  echo "${DIM}\$ ${text}${OFF}"
}
# Shows a command, then runs it in WORK.
run() {
  shown "$@"
  (cd "${WORK}" && "$@")
}
# Shows a pipeline, then runs it in WORK.
pipeline() {
  shown "$1"
  (cd "${WORK}" && bash -c "$1")
}
# Shows a query against fo or ce and prints its result as a table.
query() {
  local db="$1" sql="$2"
  echo "${DIM}\$ sqlite3 ${db}.db \"${sql}\"${OFF}"
  sqlite3 -header -column "${WORK}/${db}.db" "${sql}"
}
# Runs SQL statements as an application would, showing them first.
app() {
  local db="$1" sql="$2"
  echo "${DIM}\$ sqlite3 ${db}.db <<'SQL'${OFF}"
  sed 's/^/  /' <<<"${sql}"
  echo "${DIM}SQL${OFF}"
  (cd "${WORK}" && sqlite3 -bail "${db}.db" "${sql}")
}
# Waits until a query answers `expected` (duet syncs in the background).
wait_for() {
  local db="$1" sql="$2" expected="$3" got=""
  for _ in $(seq 1 300); do
    got="$(sqlite3 "${WORK}/${db}.db" "${sql}" 2>/dev/null || true)"
    [[ "${got}" == "${expected}" ]] && return 0
    sleep 0.1
  done
  echo "quickstart: gave up waiting: ${db}: ${sql} gave '${got}', not '${expected}'" >&2
  echo "quickstart: the end of ${WORK}/duet.log:" >&2
  tail -n 20 "${WORK}/duet.log" >&2 || true
  exit 1
}

# ---- a clean start (the demo may run any number of times) ----------------------

stop_duet() {
  if [[ -f "${WORK}/duet.pid" ]]; then
    local pid
    pid="$(cat "${WORK}/duet.pid")"
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}" 2>/dev/null || true
      for _ in $(seq 1 100); do
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -f "${WORK}/duet.pid"
  fi
}
stop_duet
trap stop_duet EXIT
mkdir -p "${WORK}"
rm -f "${WORK}"/{fo,ce,state}.db{,-wal,-shm,-journal} "${WORK}"/{standard.duetb,duet.json,duet.log}
rm -rf "${WORK}/cache"
started=${SECONDS}

echo "${BOLD}duet quickstart${OFF}: Finance and Operations (fo) <-> Dataverse (ce), both as SQLite"
echo "working in ${WORK}"

section "Two applications' databases"
note "duetc schema prints SQLite tables shaped like the tables the standard maps declare:"
pipeline "${DUETC} schema ${ROOT}/stdlib-maps --system fo | sqlite3 fo.db"
pipeline "${DUETC} schema ${ROOT}/stdlib-maps --system ce | sqlite3 ce.db"
note "F&O gets a generated data set; Dataverse already has companies, a currency, units,"
note "tax groups, and 300 accounts that sales keeps by hand for some of F&O's customers:"
pipeline "sqlite3 -bail fo.db < ${HERE}/fo_data.sql"
pipeline "sqlite3 -bail ce.db -cmd \"ATTACH 'fo.db' AS fo\" < ${HERE}/ce_data.sql"
query fo "SELECT (SELECT count(*) FROM OMLegalEntity) AS companies,
  (SELECT count(*) FROM CustCustomerV3Entity) AS customers,
  (SELECT count(*) FROM VendVendorV2Entity) AS vendors,
  (SELECT count(*) FROM EcoResEveryProductEntity) AS products,
  (SELECT count(*) FROM HcmWorkerEntity) AS workers"
query ce "SELECT (SELECT count(*) FROM account) AS accounts, (SELECT count(*) FROM contact) AS contacts"
query ce "SELECT accountnumber, name, telephone1 FROM account WHERE accountnumber = 'DE-00001'"

section "Compile the standard maps into a bundle"
run "${DUETC}" compile "${ROOT}/stdlib-maps" -o standard.duetb
cat >"${WORK}/duet.json" <<'JSON'
{
  "bundle": "standard.duetb",
  "systems": { "fo": "sqlite:fo.db", "ce": "sqlite:ce.db" },
  "state": "sqlite:state.db",
  "cache_dir": "cache"
}
JSON
note "duet.json:"
sed 's/^/     /' "${WORK}/duet.json"

section "Install change capture, then the initial sync"
run "${DUET}" install -c duet.json
note "Maps run in dependency order (companies before customer groups before customers)."
note "Existing rows are matched by alternate key; F&O seeds (initial from fo):"
run "${DUET}" run --once -c duet.json
query ce "SELECT count(*) AS accounts,
  count(DISTINCT msdyn_company || '/' || accountnumber) AS distinct_keys FROM account"
note "The 300 accounts sales had were linked to their customers, not duplicated;"
note "F&O's values replaced the stale ones:"
query ce "SELECT accountnumber, name, telephone1 FROM account WHERE accountnumber = 'DE-00001'"

section "Live sync"
echo "${DIM}\$ duet run -c duet.json &${OFF}"
(cd "${WORK}" && exec "${DUET}" run -c duet.json >duet.log 2>&1) &
echo $! >"${WORK}/duet.pid"
note "duet now runs in the background (its log: ${WORK}/duet.log)."

section "A new customer in F&O"
app fo "INSERT INTO CustCustomerV3Entity (DATAAREAID, CUSTOMERACCOUNT, PARTYTYPE, CUSTOMERGROUPID,
    ORGANIZATIONNAME, SALESCURRENCYCODE, PAYMENTTERMS, CREDITLIMIT, PRIMARYCONTACTPHONE)
  VALUES ('usmf', 'US-09001', 'Organization', '10', 'Trey Research', 'USD', 'Net30',
          '25000', '+1 425 555 0100');"
wait_for ce "SELECT count(*) FROM account WHERE accountnumber = 'US-09001'" 1
note "It is an account in Dataverse, its group and payment terms found by key:"
query ce "SELECT a.accountnumber, a.name, g.msdyn_groupid AS customer_group,
  t.msdyn_name AS payment_terms, a.creditlimit
FROM account a JOIN msdyn_customergroup g ON g.msdyn_customergroupid = a.msdyn_customergroupid
JOIN msdyn_paymentterm t ON t.msdyn_paymenttermid = a.msdyn_paymentterm
WHERE a.accountnumber = 'US-09001'"

section "A lead converted to an account in Dataverse"
app ce "INSERT INTO account (msdyn_company, accountnumber, name, customertypecode,
    msdyn_customergroupid, transactioncurrencyid, telephone1)
  SELECT c.cdm_companyid, 'US-09002', 'Litware, Inc.', 3, g.msdyn_customergroupid,
         x.transactioncurrencyid, '+1 206 555 0142'
  FROM cdm_company c
  JOIN msdyn_customergroup g ON g.msdyn_company = c.cdm_companyid AND g.msdyn_groupid = '30'
  JOIN transactioncurrency x ON x.isocurrencycode = 'USD'
  WHERE c.cdm_companycode = 'usmf';"
wait_for fo "SELECT count(*) FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-09002'" 1
note "F&O has a new customer (PARTYTYPE and LANGUAGEID are the map's defaults):"
query fo "SELECT DATAAREAID, CUSTOMERACCOUNT, ORGANIZATIONNAME, CUSTOMERGROUPID, PARTYTYPE,
  LANGUAGEID, PRIMARYCONTACTPHONE FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-09002'"

section "Both sides edit the same customer at the same moment"
note "One transaction over both databases, so duet sees the two edits together:"
app fo "ATTACH 'ce.db' AS ce;
BEGIN;
UPDATE main.CustCustomerV3Entity SET CREDITLIMIT = '75000', PRIMARYCONTACTPHONE = '+1 425 555 0111'
  WHERE CUSTOMERACCOUNT = 'US-09001';
UPDATE ce.account SET creditlimit = '90000', telephone1 = '+1 206 555 0199'
  WHERE accountnumber = 'US-09001';
COMMIT;"
wait_for fo "SELECT PRIMARYCONTACTPHONE || ' ' || printf('%.2f', CREDITLIMIT)
  FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-09001'" "+1 206 555 0199 75000.00"
wait_for ce "SELECT telephone1 || ' ' || printf('%.2f', creditlimit) FROM account
  WHERE accountnumber = 'US-09001'" "+1 206 555 0199 75000.00"
note "The map's rule (master fo) kept F&O's credit limit; the phone is one of the"
note "preferred communication fields, mastered in Dataverse (master ce), so its phone won:"
query fo "SELECT CUSTOMERACCOUNT, CREDITLIMIT, PRIMARYCONTACTPHONE FROM CustCustomerV3Entity
  WHERE CUSTOMERACCOUNT = 'US-09001'"
query ce "SELECT accountnumber, creditlimit, telephone1 FROM account WHERE accountnumber = 'US-09001'"

section "A row F&O cannot take lands in the error queue"
app ce "INSERT INTO account (msdyn_company, accountnumber, name, customertypecode,
    msdyn_customergroupid)
  SELECT c.cdm_companyid, 'US-09003',
         'Proseware, Inc. - Northwest Regional Office for Enterprise Audio, Video and Conferencing Equipment Sales',
         3, g.msdyn_customergroupid
  FROM cdm_company c
  JOIN msdyn_customergroup g ON g.msdyn_company = c.cdm_companyid AND g.msdyn_groupid = '20'
  WHERE c.cdm_companycode = 'usmf';"
wait_for state "SELECT count(*) FROM duet_errors WHERE status = 'open'" 1
note "Dataverse allows 160 characters for a name; F&O's ORGANIZATIONNAME takes 100."
note "The other rows go on syncing; this one waits in the queue with its reason:"
run "${DUET}" errors list -c duet.json
note "Sales shortens the name in Dataverse; the changed row is retried and the item closes:"
app ce "UPDATE account SET name = 'Proseware, Inc. (Northwest)' WHERE accountnumber = 'US-09003';"
wait_for fo "SELECT ORGANIZATIONNAME FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-09003'" \
  "Proseware, Inc. (Northwest)"
wait_for state "SELECT count(*) FROM duet_errors WHERE status = 'open'" 0
run "${DUET}" errors list --all -c duet.json

section "Status"
run "${DUET}" status -c duet.json
stop_duet

echo
echo "${BOLD}Done in $((SECONDS - started)) s.${OFF} Where to look next:"
echo "  - the databases and the log:  ${WORK} (fo.db, ce.db, state.db, duet.log)"
echo "  - what each standard map syncs, and what it does not:  docs/standard-maps.md"
echo "  - the sync model (initial sync, conflicts, errors):  docs/sync.md"
echo "  - running it for real (errors, pause, drift, resync, upgrades):  docs/operations.md"
echo "  - your own maps on top of the standard ones:  examples/custom-map/"
