#!/usr/bin/env bash
# Measures duet's initial sync with both systems on PostgreSQL (issue 15),
# side by side with the baseline, in one run on this machine:
#   the baseline: `psql -c "COPY (SELECT ...) TO STDOUT" | psql -c "COPY ...
#   FROM STDIN"` of the same rows and 26 columns (bench/sync/customers.duet:
#   the value maps as CASE, upper(trim(...)), the constant) from fo's table
#   into a table like ce's, run before and after duet; then `duet install` +
#   `duet run --once` from fo to ce, timed whole (peak RSS with
#   /usr/bin/time), with the state store on SQLite and then on PostgreSQL
#   (each on fresh ce and state); ce's rows are compared with the baseline's.
# The cluster is a throwaway one: initdb in the scratch directory (as the
# `postgres` OS user through runuser when run as root, as
# tests/support/pg_server.cc does), wal_level=logical, fsync on, listening on
# a Unix socket in the scratch directory only (no TCP), `trust` for that
# socket: no password exists, so none can be printed.
# Numbers go to stdout; docs/performance.md records them with the machine.
#   DUET_BENCH_BUILD_DIR   build directory with duet, duetc and duet_sync_bench
#                          (default: build; not built here)
#   DUET_BENCH_DUET        the duet binary to measure (default: the build
#                          directory's; to compare two builds)
#   DUET_BENCH_DIR         scratch directory (default: /tmp/duet-bench-pg;
#                          emptied first)
#   DUET_BENCH_ROWS        customers (default: 1000000)
#   DUET_BENCH_STATES      state stores to run: "sqlite postgresql" (default)
#   DUET_BENCH_PERF        1: `perf record -g` duet's runs into the scratch
#                          directory (needs a perf that works here)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(realpath "${DUET_BENCH_BUILD_DIR:-${ROOT}/build}")"
WORK="${DUET_BENCH_DIR:-/tmp/duet-bench-pg}"
ROWS="${DUET_BENCH_ROWS:-1000000}"
STATES="${DUET_BENCH_STATES:-sqlite postgresql}"
PERF="${DUET_BENCH_PERF:-0}"
DUET="$(realpath "${DUET_BENCH_DUET:-${BUILD_DIR}/runtime/cli/duet}")"
DUETC="${BUILD_DIR}/compiler/driver/duetc"
APP="${BUILD_DIR}/bench/sync/duet_sync_bench"
PGBIN="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")"

load() { cut -d' ' -f1-3 /proc/loadavg; }
say() { echo "bench_pg_sync: $*"; }

# Runs a command as the OS user that owns the cluster.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

rm -rf "${WORK}"
mkdir -p "${WORK}"
chmod 755 "${WORK}"
cd "${WORK}"
SOCK="${WORK}/sock"
DATA="${WORK}/data"
PORT=5432  # names the socket file in ${SOCK}: no TCP port is taken
mkdir -p "${SOCK}" "${DATA}"
[[ "$(id -u)" == 0 ]] && chown postgres "${SOCK}" "${DATA}"
cleanup() { as_pg "${PGBIN}/pg_ctl" stop -D "${DATA}" -m immediate >/dev/null 2>&1 || true; }
trap cleanup EXIT

say "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
  "$(. /etc/os-release && echo "${PRETTY_NAME}"), $("${PGBIN}/postgres" --version)," \
  "build $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "${BUILD_DIR}/CMakeCache.txt"), duet ${DUET}," \
  "load $(load)"
as_pg "${PGBIN}/initdb" -D "${DATA}" -U postgres -A trust -E UTF8 --locale=C >initdb.log 2>&1
cat >>"${DATA}/postgresql.conf" <<CONF
listen_addresses = ''
port = ${PORT}
unix_socket_directories = '${SOCK}'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
shared_buffers = 256MB
max_wal_size = 4GB
CONF
as_pg "${PGBIN}/pg_ctl" start -w -D "${DATA}" -l "${DATA}/server.log" >/dev/null
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "${SOCK}" -p "${PORT}" -U postgres "$@"; }
for db in fo ce state; do psql_ -d postgres -c "CREATE DATABASE ${db}"; done
uri() { echo "postgresql:///$1?host=${SOCK}&port=${PORT}&user=postgres"; }

FO_COLUMNS='"DATAAREAID" text NOT NULL, "CUSTOMERACCOUNT" text NOT NULL,
  "PARTYTYPE" text NOT NULL, "ORGANIZATIONNAME" text, "ORGANIZATIONNUMBEROFEMPLOYEES" bigint,
  "CUSTOMERGROUPID" text NOT NULL, "SALESCURRENCYCODE" text, "CREDITLIMIT" numeric(32, 6),
  "CREDITLIMITISMANDATORY" text, "ONHOLDSTATUS" text, "PAYMENTTERMSBASEDAYS" bigint,
  "CUSTOMERSINCE" date, "TAXEXEMPTNUMBER" text, "PARTYNUMBER" text,
  "INVOICEADDRESSSTREET" text, "INVOICEADDRESSCITY" text, "INVOICEADDRESSSTATE" text,
  "INVOICEADDRESSZIPCODE" text, "INVOICEADDRESSCOUNTRYREGIONISOCODE" text,
  "INVOICEADDRESSLATITUDE" numeric(32, 6), "INVOICEADDRESSLONGITUDE" numeric(32, 6),
  "PRIMARYCONTACTEMAIL" text, "PRIMARYCONTACTPHONE" text, "PRIMARYCONTACTURL" text,
  "SALESMEMO" text, "MODIFIEDSEQ" bigint'
CE_COLUMNS='msdyn_companycode, accountnumber, name, searchname, numberofemployees,
  customertypecode, msdyn_customergroup, transactioncurrencycode, creditlimit,
  msdyn_creditlimitismandatory, msdyn_onholdstatus, msdyn_paymenttermsbasedays,
  msdyn_customersince, msdyn_taxexemptnumber, msdyn_partynumber, address1_line1, address1_city,
  address1_stateorprovince, address1_postalcode, address1_country, address1_latitude,
  address1_longitude, emailaddress1, telephone1, websiteurl, description, msdyn_modifiedseq'
# A table like ce's: a generated primary key and an index on the alternate key.
ce_table() {
  cat <<SQL
CREATE TABLE $1 (accountid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  msdyn_companycode text NOT NULL, accountnumber text NOT NULL, name text, searchname text,
  numberofemployees bigint, customertypecode bigint, msdyn_customergroup text,
  transactioncurrencycode text, creditlimit numeric(19, 4), msdyn_creditlimitismandatory bool,
  msdyn_onholdstatus bigint, msdyn_paymenttermsbasedays bigint, msdyn_customersince date,
  msdyn_taxexemptnumber text, msdyn_partynumber text, address1_line1 text, address1_city text,
  address1_stateorprovince text, address1_postalcode text, address1_country text,
  address1_latitude float8, address1_longitude float8, emailaddress1 text, telephone1 text,
  websiteurl text, description text, msdyn_modifiedseq bigint);
CREATE INDEX $1_key ON $1 (msdyn_companycode, accountnumber);
SQL
}
psql_ -d fo -c "CREATE TABLE \"BenchCustomer\" (\"RECID\" bigint GENERATED BY DEFAULT AS
  IDENTITY PRIMARY KEY, ${FO_COLUMNS});
  CREATE INDEX \"BenchCustomer_key\" ON \"BenchCustomer\" (\"DATAAREAID\", \"CUSTOMERACCOUNT\")"

# The rows: duet_sync_bench's generator (the SQLite benchmark's customers),
# copied into fo as CSV.
"${APP}" schema gen.db -
"${APP}" generate gen.db "${ROWS}" | sed 's/^/bench_pg_sync: /'
sqlite3 -csv gen.db "SELECT * FROM BenchCustomer ORDER BY RECID" |
  psql_ -d fo -c "COPY \"BenchCustomer\" FROM STDIN (FORMAT csv)"
rm -f gen.db
psql_ -d fo -c "VACUUM ANALYZE \"BenchCustomer\""
say "fo: $(psql_ -d fo -At -c "SELECT count(*) || ' rows, ' ||
  pg_size_pretty(pg_total_relation_size('\"BenchCustomer\"')) FROM \"BenchCustomer\"")"

SELECT_SQL='SELECT "DATAAREAID", "CUSTOMERACCOUNT", "ORGANIZATIONNAME",
  upper(trim("ORGANIZATIONNAME")), "ORGANIZATIONNUMBEROFEMPLOYEES", 3, "CUSTOMERGROUPID",
  "SALESCURRENCYCODE", "CREDITLIMIT",
  CASE "CREDITLIMITISMANDATORY" WHEN '"'no'"' THEN false WHEN '"'yes'"' THEN true END,
  CASE "ONHOLDSTATUS" WHEN '"'no'"' THEN 806380000 WHEN '"'invoice'"' THEN 806380001
    WHEN '"'all'"' THEN 806380002 WHEN '"'payment'"' THEN 806380003
    WHEN '"'requisition'"' THEN 806380004 WHEN '"'never'"' THEN 806380005 END,
  "PAYMENTTERMSBASEDAYS", "CUSTOMERSINCE", "TAXEXEMPTNUMBER", "PARTYNUMBER",
  "INVOICEADDRESSSTREET", "INVOICEADDRESSCITY", "INVOICEADDRESSSTATE", "INVOICEADDRESSZIPCODE",
  "INVOICEADDRESSCOUNTRYREGIONISOCODE", "INVOICEADDRESSLATITUDE", "INVOICEADDRESSLONGITUDE",
  "PRIMARYCONTACTEMAIL", "PRIMARYCONTACTPHONE", "PRIMARYCONTACTURL", "SALESMEMO", "MODIFIEDSEQ"
  FROM "BenchCustomer" WHERE "PARTYTYPE" = '"'Organization'"' ORDER BY "RECID"'

# The baseline into table $1 of ce: prints its rate.
baseline() {
  psql_ -d ce -c "$(ce_table "$1")"
  local start end
  start="$(date +%s.%N)"
  psql_ -d fo -c "COPY (${SELECT_SQL}) TO STDOUT" |
    psql_ -d ce -c "COPY $1 ($(tr -d '\n' <<<"${CE_COLUMNS}")) FROM STDIN"
  end="$(date +%s.%N)"
  local n
  n="$(psql_ -d ce -At -c "SELECT count(*) FROM $1")"
  awk -v n="${n}" -v s="${start}" -v e="${end}" 'BEGIN {
    printf "baseline: %d rows in %.2f s: %.0f rows/s\n", n, e - s, n / (e - s) }'
}
# Rows of ce table $1 not in $2, either way (the columns duet writes).
differ() {
  psql_ -d ce -At -c "SELECT (SELECT count(*) FROM (SELECT ${CE_COLUMNS} FROM $1 EXCEPT ALL
    SELECT ${CE_COLUMNS} FROM $2) a) + (SELECT count(*) FROM (SELECT ${CE_COLUMNS} FROM $2
    EXCEPT ALL SELECT ${CE_COLUMNS} FROM $1) b)"
}
rate() { sed -n 's/.* \([0-9]*\) rows\/s$/\1/p' <<<"$1"; }

"${DUETC}" compile "${ROOT}/bench/sync/customers.duet" -o bench.duetb >compile.log 2>&1
b1="$(baseline bench_baseline1)"
say "${b1} (before duet)"
best="$(rate "${b1}")"
for state in ${STATES}; do
  echo
  say "initial sync of ${ROWS} customers, fo -> ce, state store on ${state} (load $(load))"
  psql_ -d ce -c "DROP TABLE IF EXISTS bench_account; $(ce_table bench_account)"
  rm -f state.db*
  psql_ -d state -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
  if [[ "${state}" == sqlite ]]; then state_uri="sqlite:${WORK}/state.db"; else state_uri="$(uri state)"; fi
  cat >sync.json <<JSON
{ "bundle": "bench.duetb", "systems": { "fo": "$(uri fo)", "ce": "$(uri ce)" },
  "state": "${state_uri}" }
JSON
  # Each run starts from an uninstalled fo: drop what the previous install made.
  "${DUET}" uninstall -c sync.json >uninstall.log 2>&1 || true
  "${DUET}" install -c sync.json >install.log 2>&1 || { tail -n 20 install.log >&2; exit 1; }
  /usr/bin/time -f '%e %U %S %M' -o initial.time "${DUET}" run -c sync.json --once \
    >"initial-${state}.log" 2>&1 &
  time_pid=$!
  if [[ "${PERF}" == 1 ]]; then
    sleep 0.2
    perf record -g -F 499 -o "perf-${state}.data" -p "$(pgrep -P "${time_pid}")" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  wait "${time_pid}" || { tail -n 20 "initial-${state}.log" >&2; say "duet run --once failed"; exit 1; }
  [[ "${PERF}" == 1 ]] && { kill -INT "${perf_pid}" 2>/dev/null || true; wait "${perf_pid}" || true; }
  read -r wall user sys rss <initial.time
  say "duet run --once: ${ROWS} rows in ${wall} s wall (${user} s user, ${sys} s sys)," \
    "peak RSS $((rss / 1024)) MB; load $(load)"
  grep -v 'rows (' "initial-${state}.log" | tail -n 3 | sed 's/^/bench_pg_sync:   /' || true
  n="$(psql_ -d ce -At -c "SELECT count(*) FROM bench_account")"
  say "duet vs baseline output: ${n} rows, $(differ bench_account bench_baseline1) missing or different"
  eval "wall_${state}=${wall} rss_${state}=${rss}"
done
echo
psql_ -d ce -c "DROP TABLE bench_baseline1"
b2="$(baseline bench_baseline2)"
say "${b2} (after duet)"
(($(rate "${b2}") > best)) && best="$(rate "${b2}")"
for state in ${STATES}; do
  wall="wall_${state}" rss="rss_${state}"
  awk -v rows="${ROWS}" -v wall="${!wall}" -v b="${best}" -v rss="${!rss}" -v st="${state}" \
    -v b1="$(rate "${b1}")" -v b2="$(rate "${b2}")" 'BEGIN {
      d = rows / wall;
      printf "bench_pg_sync: RESULT initial sync PG -> PG, state on %s: duet %.0f rows/s," \
             " baseline %.0f rows/s (best of %.0f, %.0f): %.1f%% of the baseline" \
             " (goal >= 50%%: %s); peak RSS %.0f MB (goal < 300 MB: %s)\n", st, d, b, b1, b2,
             100 * d / b, (d >= 0.5 * b ? "met" : "MISSED"), rss / 1024,
             (rss / 1024 < 300 ? "met" : "MISSED") }'
done
say "done; load $(load). Logs in ${WORK}."
