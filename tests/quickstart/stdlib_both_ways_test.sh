#!/usr/bin/env bash
# Every standard map syncs a generated data set both ways between two SQLite
# databases with no error items: the quickstart's data set (F&O filled, some
# Dataverse accounts already there) is initially synced, then rows are created
# in Dataverse for every two-way map and rows are edited on both sides for
# every map (both_ways.sql), and a second run must bring each change across.
# Checked with the sqlite3 client and duet's own drift check, per map.
#   usage: stdlib_both_ways_test.sh REPO_ROOT DUETC DUET
set -euo pipefail

ROOT="$1" DUETC="$2" DUET="$3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# expect DB SQL EXPECTED: the query's output must be EXPECTED.
expect() {
  local got
  got="$(sqlite3 "$1.db" "$2")"
  [[ "${got}" == "$3" ]] || fail "$1: $2"$'\n'"  got:      '${got}'"$'\n'"  expected: '$3'"
}

"${DUETC}" schema "${ROOT}/stdlib-maps" --system fo | sqlite3 -bail fo.db
"${DUETC}" schema "${ROOT}/stdlib-maps" --system ce | sqlite3 -bail ce.db
# Its script is safe to run again on the same database.
"${DUETC}" schema "${ROOT}/stdlib-maps" --system ce | sqlite3 -bail ce.db
sqlite3 -bail fo.db <"${ROOT}/examples/quickstart/fo_data.sql"
sqlite3 -bail ce.db -cmd "ATTACH 'fo.db' AS fo" <"${ROOT}/examples/quickstart/ce_data.sql"
"${DUETC}" compile "${ROOT}/stdlib-maps" -o standard.duetb 2>/dev/null
cat >duet.json <<'JSON'
{ "bundle": "standard.duetb", "systems": { "fo": "sqlite:fo.db", "ce": "sqlite:ce.db" },
  "state": "sqlite:state.db" }
JSON
"${DUET}" install -c duet.json >/dev/null
rc=0
"${DUET}" run --once -c duet.json 2>initial.log || rc=$?
if [[ ${rc} -ne 0 ]]; then
  cat initial.log >&2
  fail "initial sync: duet run --once exited ${rc}"
fi

sqlite3 -bail ce.db -cmd "ATTACH 'fo.db' AS fo" <"${HERE}/both_ways.sql"
rc=0
"${DUET}" run --once -c duet.json 2>live.log || rc=$?
if [[ ${rc} -ne 0 ]]; then
  cat live.log >&2
  fail "after the edits: duet run --once exited ${rc}"
fi

# Created in Dataverse, now in F&O.
expect fo "SELECT NAME FROM CurrencyEntity WHERE CURRENCYCODE = 'CHF'" "Swiss Franc"
expect fo "SELECT REPORTCOLUMNNAME FROM DimensionAttributeEntity WHERE DIMENSIONNAME = 'Region'" \
  "Region"
expect fo "SELECT DIMENSIONFORMATTYPE || ' ' || ISACTIVE FROM DimensionIntegrationFormatEntity
  WHERE DIMENSIONFORMATNAME = 'Budget dimension format'" "dataEntityBudgetDimensionFormat yes"
expect fo "SELECT group_concat(DATAAREAID || ':' || NUMBEROFDAYS) FROM
  (SELECT * FROM PaymentTermEntity WHERE NAME = 'Net60' ORDER BY DATAAREAID)" \
  "demf:60,gbsi:60,usmf:60"
expect fo "SELECT count(*) || ' ' || min(PAYMENTTERMID) FROM CustCustomerGroupEntity
  WHERE CUSTOMERGROUPID = '70'" "3 Net60"
expect fo "SELECT count(*) FROM VendVendorGroupEntity WHERE VENDORGROUPID = '50'" "3"
expect fo "SELECT DATAAREAID || ' ' || VENDORGROUPID || ' ' || VENDORORGANIZATIONNAME || ' ' ||
  VENDORPARTYTYPE FROM VendVendorV2Entity WHERE VENDORACCOUNTNUMBER = 'V-CE-0001'" \
  "usmf 50 Fabrikam Consulting organization"
expect fo "SELECT ASSOCIATEDCONTACTTYPE || ' ' || ASSOCIATEDCONTACTNUMBER || ' ' || LASTNAME
  FROM smmContactPersonCDSV2Entity WHERE CONTACTPERSONID = 'VC-CE-0001'" \
  "Vendor V-CE-0001 Okafor"
expect fo "SELECT PARTYTYPE || ' ' || CUSTOMERGROUPID || ' ' || PERSONLASTNAME || ' ' ||
  PERSONGENDER FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-P09001'" \
  "Person 70 Kumar male"
expect fo "SELECT PARTYTYPE || ' ' || ORGANIZATIONNAME || ' ' || PAYMENTTERMS || ' ' ||
  ORGANIZATIONNUMBEROFEMPLOYEES FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-09100'" \
  "Organization Wide World Importers Net60 120"
expect fo "SELECT FIRSTNAME || ' ' || GENDER FROM HcmWorkerEntity WHERE PERSONNELNUMBER = '900001'" \
  "Lena female"
expect fo "SELECT LEGALENTITYID || ' ' || EMPLOYERUNITOFNOTICE FROM HcmEmploymentDetailEntity
  WHERE PERSONNELNUMBER = '900001' AND EMPLOYMENTSTARTDATE = '2026-11-01'" "demf month"

# Edited in Dataverse, now in F&O.
expect fo "SELECT PRIMARYCONTACTPHONE FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'US-00003'" \
  "+1 206 555 0000"
expect fo "SELECT VENDORORGANIZATIONNAME FROM VendVendorV2Entity
  WHERE VENDORACCOUNTNUMBER = 'V-US-0003'" "Northwind Traders (renamed in CRM)"
expect fo "SELECT PRIMARYCONTACTPHONE FROM HcmWorkerEntity WHERE PERSONNELNUMBER = '000003'" \
  "+1 425 555 9999"

# Edited in F&O, now in Dataverse.
expect ce "SELECT cdm_name FROM cdm_company WHERE cdm_companycode = 'gbsi'" \
  "Contoso Entertainment System UK (renamed)"
expect ce "SELECT currencyname FROM transactioncurrency WHERE isocurrencycode = 'JPY'" "Yen"
expect ce "SELECT msdyn_reportcolumnname FROM msdyn_dimensionattribute
  WHERE msdyn_dimensionname = 'BusinessUnit'" "BU"
expect ce "SELECT msdyn_isactive FROM msdyn_financialdimensionformat
  WHERE msdyn_dimensionformatname = 'Ledger dimension format'" "0"
expect ce "SELECT DISTINCT msdyn_description FROM msdyn_paymentterm WHERE msdyn_name = 'Net10'" \
  "Net 10 days (2% discount)"
expect ce "SELECT DISTINCT msdyn_description FROM msdyn_customergroup WHERE msdyn_groupid = '90'" \
  "Web shop customers"
expect ce "SELECT DISTINCT msdyn_description FROM msdyn_vendorgroup WHERE msdyn_vendorgroup = '40'" \
  "Freight partners"
expect ce "SELECT creditlimit FROM account WHERE accountnumber = 'DE-00001'" "123000.0000"
expect ce "SELECT lastname FROM contact WHERE msdyn_contactpersonid = 'US-P00024'" "Hoffmann-Weber"
expect ce "SELECT msdyn_vendorcreditlimit FROM msdyn_vendor
  WHERE msdyn_vendoraccountnumber = 'V-DE-0001'" "55000.0000"
expect ce "SELECT department FROM contact WHERE msdyn_contactpersonid = 'VC-DE-0001'" "Purchasing"
expect ce "SELECT msdyn_productname FROM msdyn_globalproduct WHERE msdyn_productnumber = 'D0001'" \
  "Studio Speaker MkII"
expect ce "SELECT price FROM product WHERE msdyn_productnumber = 'D0001'" "99.5000"
expect ce "SELECT count(*) FROM msdyn_sharedproductdetail
  WHERE msdyn_itemnumber = 'D0002' AND msdyn_marginabccode = 806380001" "2"
expect ce "SELECT cdm_status FROM cdm_worker WHERE cdm_workernumber = '000004'" "754400001"
expect ce "SELECT e.cdm_employmentenddate FROM cdm_employment e
  JOIN cdm_worker w ON w.cdm_workerid = e.cdm_workerid WHERE w.cdm_workernumber = '000004'" \
  "2026-12-31"

# Every map: rows linked, nothing waiting, no error item, and duet's own
# drift check finds every row paired and every pair agreeing.
status="$("${DUET}" status --json -c duet.json)"
maps="$(python3 -c '
import json, sys
for m in json.loads(sys.argv[1])["maps"]:
    print(m["name"], m["linked"], m["errors"], m["waiting"])' "${status}")"
[[ "$(wc -l <<<"${maps}")" -eq 16 ]] || fail "expected 16 maps, status lists: ${maps}"
while read -r name linked errors waiting; do
  [[ "${linked}" -gt 0 ]] || fail "map ${name} linked no rows"
  [[ "${errors}" -eq 0 && "${waiting}" -eq 0 ]] ||
    fail "map ${name}: ${errors} error item(s), ${waiting} waiting"
  if ! drift="$("${DUET}" drift "${name}" -c duet.json 2>&1)"; then
    fail "duet drift ${name}:"$'\n'"${drift}"
  fi
done <<<"${maps}"
open_items="$("${DUET}" errors list -c duet.json)"
[[ "${open_items}" == "no open error items" ]] || fail "open error items:"$'\n'"${open_items}"

if [[ ${failures} -ne 0 ]]; then
  echo "${failures} check(s) failed" >&2
  exit 1
fi
echo "all 16 standard maps synced both ways: every row paired, no error items"
