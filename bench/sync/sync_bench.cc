// duet_sync_bench: the application side of the sync benchmarks (issue 4,
// docs/performance.md, scripts/bench_sync.sh). It plays the applications
// that own fo.db and ce.db and measures what they see; `duet` itself runs as
// the real binary next to it. Subcommands:
//
//   schema FO.db CE.db          create the application tables of customers.duet
//                               (`-`: skip that side)
//   generate FO.db N            insert N customers (one transaction)
//   baseline FO.db CE.db        the plain SQL floor: ATTACH + INSERT INTO ... SELECT
//                               of the same rows and columns, with the map's value
//                               maps, constants and computed field written in SQL
//   floor FO.db CE.db STATE.db  the SQLite work any row-at-a-time sync with duet's
//                               guarantees must do, and nothing else: read each
//                               mapped row (the baseline's SELECT), look its key
//                               up on CE, insert it there with a capture trigger
//                               like duet's, and insert a link with a base of
//                               duet's size for this shape (kFloorBaseBytes) into
//                               a link table like duet's; a commit on CE and STATE
//                               per 5,000 rows
//   compare CE.db OTHER.db      every account of CE.db equals OTHER.db's (by key)
//   capture DB ROWS             application writes on DB: ROWS inserts and ROWS
//                               updates, in one transaction and one row a
//                               transaction; prints the rates (rows per second
//                               of wall time, then of the process's CPU time:
//                               steadier on a shared machine)
//   live FO.db CE.db RATE SECS  single-row transactions on FO at RATE/s; polls CE
//                               for each change; prints latency percentiles
//   flood FO.db CE.db SECS      single-row transactions on FO as fast as possible;
//                               samples how far CE has caught up
//
// Application connections use WAL with synchronous=NORMAL (the usual setting
// for a SQLite application; DUET_BENCH_SYNCHRONOUS overrides it) and a busy
// timeout, like duet's own.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "duet_sync_bench: %s\n", what.c_str());
  std::exit(1);
}

class Db {
 public:
  explicit Db(const std::string& path, bool app_settings = true) {
    // Each connection is used by one thread at a time, as duet's are.
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      Die("cannot open " + path);
    }
    sqlite3_busy_timeout(db_, 30000);
    if (app_settings) {
      Exec("PRAGMA journal_mode=WAL");
      const char* sync = std::getenv("DUET_BENCH_SYNCHRONOUS");
      Exec(std::string("PRAGMA synchronous=") + (sync ? sync : "NORMAL"));
    }
  }
  ~Db() {
    for (auto* s : statements_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      Die(message + " in: " + sql.substr(0, 200));
    }
  }
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      Die(std::string(sqlite3_errmsg(db_)) + " in: " + sql.substr(0, 200));
    }
    statements_.push_back(s);
    return s;
  }
  sqlite3* handle() const { return db_; }
  void Step(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) Die(sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      Die(std::string(sqlite3_errmsg(db_)) + " in: " + sql);
    }
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

// The application schemas. Like tests/e2e/schemas.h: an INTEGER PRIMARY KEY
// and an index on the alternate key, as a real application table has.
// Decimals are NUMERIC columns (SQLite stores them as numbers).
constexpr char kFoSchema[] = R"sql(
CREATE TABLE BenchCustomer (
  RECID INTEGER PRIMARY KEY,
  DATAAREAID TEXT NOT NULL, CUSTOMERACCOUNT TEXT NOT NULL, PARTYTYPE TEXT NOT NULL,
  ORGANIZATIONNAME TEXT, ORGANIZATIONNUMBEROFEMPLOYEES INTEGER, CUSTOMERGROUPID TEXT NOT NULL,
  SALESCURRENCYCODE TEXT, CREDITLIMIT NUMERIC, CREDITLIMITISMANDATORY TEXT, ONHOLDSTATUS TEXT,
  PAYMENTTERMSBASEDAYS INTEGER, CUSTOMERSINCE TEXT, TAXEXEMPTNUMBER TEXT, PARTYNUMBER TEXT,
  INVOICEADDRESSSTREET TEXT, INVOICEADDRESSCITY TEXT, INVOICEADDRESSSTATE TEXT,
  INVOICEADDRESSZIPCODE TEXT, INVOICEADDRESSCOUNTRYREGIONISOCODE TEXT,
  INVOICEADDRESSLATITUDE NUMERIC, INVOICEADDRESSLONGITUDE NUMERIC, PRIMARYCONTACTEMAIL TEXT,
  PRIMARYCONTACTPHONE TEXT, PRIMARYCONTACTURL TEXT, SALESMEMO TEXT, MODIFIEDSEQ INTEGER);
CREATE INDEX BenchCustomer_key ON BenchCustomer (DATAAREAID, CUSTOMERACCOUNT);
)sql";

constexpr char kCeSchema[] = R"sql(
CREATE TABLE bench_account (
  accountid INTEGER PRIMARY KEY,
  msdyn_companycode TEXT NOT NULL, accountnumber TEXT NOT NULL, name TEXT, searchname TEXT,
  numberofemployees INTEGER, customertypecode INTEGER, msdyn_customergroup TEXT,
  transactioncurrencycode TEXT, creditlimit NUMERIC, msdyn_creditlimitismandatory INTEGER,
  msdyn_onholdstatus INTEGER, msdyn_paymenttermsbasedays INTEGER, msdyn_customersince TEXT,
  msdyn_taxexemptnumber TEXT, msdyn_partynumber TEXT, address1_line1 TEXT, address1_city TEXT,
  address1_stateorprovince TEXT, address1_postalcode TEXT, address1_country TEXT,
  address1_latitude REAL, address1_longitude REAL, emailaddress1 TEXT, telephone1 TEXT,
  websiteurl TEXT, description TEXT, msdyn_modifiedseq INTEGER);
CREATE INDEX bench_account_key ON bench_account (msdyn_companycode, accountnumber);
)sql";

// The ce columns, in the order of the fo expressions that fill them (the
// baseline's INSERT ... SELECT and the comparison use both lists).
constexpr const char* kCeColumns[] = {"msdyn_companycode",
                                      "accountnumber",
                                      "name",
                                      "searchname",
                                      "numberofemployees",
                                      "customertypecode",
                                      "msdyn_customergroup",
                                      "transactioncurrencycode",
                                      "creditlimit",
                                      "msdyn_creditlimitismandatory",
                                      "msdyn_onholdstatus",
                                      "msdyn_paymenttermsbasedays",
                                      "msdyn_customersince",
                                      "msdyn_taxexemptnumber",
                                      "msdyn_partynumber",
                                      "address1_line1",
                                      "address1_city",
                                      "address1_stateorprovince",
                                      "address1_postalcode",
                                      "address1_country",
                                      "address1_latitude",
                                      "address1_longitude",
                                      "emailaddress1",
                                      "telephone1",
                                      "websiteurl",
                                      "description",
                                      "msdyn_modifiedseq"};
constexpr const char* kFoExpressions[] = {
    "DATAAREAID",
    "CUSTOMERACCOUNT",
    "ORGANIZATIONNAME",
    "upper(trim(ORGANIZATIONNAME))",
    "ORGANIZATIONNUMBEROFEMPLOYEES",
    "3",
    "CUSTOMERGROUPID",
    "SALESCURRENCYCODE",
    "CREDITLIMIT",
    "CASE CREDITLIMITISMANDATORY WHEN 'no' THEN 0 WHEN 'yes' THEN 1 END",
    "CASE ONHOLDSTATUS WHEN 'no' THEN 806380000 WHEN 'invoice' THEN 806380001"
    " WHEN 'all' THEN 806380002 WHEN 'payment' THEN 806380003"
    " WHEN 'requisition' THEN 806380004 WHEN 'never' THEN 806380005 END",
    "PAYMENTTERMSBASEDAYS",
    "CUSTOMERSINCE",
    "TAXEXEMPTNUMBER",
    "PARTYNUMBER",
    "INVOICEADDRESSSTREET",
    "INVOICEADDRESSCITY",
    "INVOICEADDRESSSTATE",
    "INVOICEADDRESSZIPCODE",
    "INVOICEADDRESSCOUNTRYREGIONISOCODE",
    "INVOICEADDRESSLATITUDE",
    "INVOICEADDRESSLONGITUDE",
    "PRIMARYCONTACTEMAIL",
    "PRIMARYCONTACTPHONE",
    "PRIMARYCONTACTURL",
    "SALESMEMO",
    "MODIFIEDSEQ"};

constexpr char kInsertCustomer[] =
    "INSERT INTO BenchCustomer (DATAAREAID, CUSTOMERACCOUNT, PARTYTYPE, ORGANIZATIONNAME,"
    " ORGANIZATIONNUMBEROFEMPLOYEES, CUSTOMERGROUPID, SALESCURRENCYCODE, CREDITLIMIT,"
    " CREDITLIMITISMANDATORY, ONHOLDSTATUS, PAYMENTTERMSBASEDAYS, CUSTOMERSINCE,"
    " TAXEXEMPTNUMBER, PARTYNUMBER, INVOICEADDRESSSTREET, INVOICEADDRESSCITY,"
    " INVOICEADDRESSSTATE, INVOICEADDRESSZIPCODE, INVOICEADDRESSCOUNTRYREGIONISOCODE,"
    " INVOICEADDRESSLATITUDE, INVOICEADDRESSLONGITUDE, PRIMARYCONTACTEMAIL,"
    " PRIMARYCONTACTPHONE, PRIMARYCONTACTURL, SALESMEMO, MODIFIEDSEQ) VALUES (?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// An update as a user makes it: a few fields of one customer, and the stamp.
constexpr char kUpdateCustomer[] =
    "UPDATE BenchCustomer SET CREDITLIMIT = ?1, ORGANIZATIONNAME = ?2, MODIFIEDSEQ = ?3"
    " WHERE RECID = ?4";

// A deterministic pseudo-random stream (splitmix64).
struct Random {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
};

template <size_t N>
const char* Pick(Random& r, const char* const (&options)[N]) {
  return options[r.Below(N)];
}

void BindText(sqlite3_stmt* s, int i, const std::string& text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// Binds one generated customer (account `prefix` + n) to kInsertCustomer.
void BindCustomer(sqlite3_stmt* s, const char* prefix, int64_t n, int64_t seq) {
  static const char* const kCompanies[] = {"usmf", "usmf", "usmf", "demf", "gbsi", "frsi"};
  static const char* const kWords[] = {
      "Contoso",  "Fabrikam", "Northwind",        "Adventure Works", "Litware",
      "Tailspin", "Wingtip",  "Alpine Ski House", "Coho Winery",     "Fourth Coffee"};
  static const char* const kKinds[] = {"Retail", "Wholesale", "Traders", "Supplies",
                                       "Group",  "Logistics", "Foods",   "Electronics"};
  static const char* const kCities[] = {"Seattle", "San Diego", "Chicago", "Berlin",  "Munich",
                                        "London",  "Paris",     "Lyon",    "Redmond", "Austin"};
  static const char* const kStates[] = {"WA",  "CA",  "IL",  "BE", "BY",
                                        "LDN", "IDF", "ARA", "WA", "TX"};
  static const char* const kCountries[] = {"US", "US", "US", "DE", "DE",
                                           "GB", "FR", "FR", "US", "US"};
  static const char* const kGroups[] = {"10", "20", "30", "40", "90"};
  static const char* const kCurrencies[] = {"USD", "USD", "EUR", "GBP"};
  static const char* const kOnHold[] = {"no",      "no",  "no",      "no",
                                        "invoice", "all", "payment", "never"};
  Random r{static_cast<uint64_t>(n) * 7919 + 17};
  char buf[256];
  int city = static_cast<int>(r.Below(10));
  std::string company = Pick(r, kCompanies);
  std::snprintf(buf, sizeof buf, "%s%09" PRId64, prefix, n);
  std::string account = buf;
  std::snprintf(buf, sizeof buf, "%s %s %s %" PRId64, Pick(r, kWords), Pick(r, kKinds),
                kCities[city], n);
  std::string name = buf;
  int i = 1;
  BindText(s, i++, company);
  BindText(s, i++, account);
  BindText(s, i++, "Organization");
  BindText(s, i++, name);
  sqlite3_bind_int64(s, i++, 1 + r.Below(5000));
  BindText(s, i++, Pick(r, kGroups));
  BindText(s, i++, Pick(r, kCurrencies));
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%02" PRId64, r.Below(500) * 1000, r.Below(100));
  BindText(s, i++, buf);  // NUMERIC: stored as a number
  BindText(s, i++, r.Below(3) == 0 ? "yes" : "no");
  BindText(s, i++, Pick(r, kOnHold));
  sqlite3_bind_int64(s, i++, 15 * (1 + r.Below(4)));
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(1995 + r.Below(30)),
                static_cast<int>(1 + r.Below(12)), static_cast<int>(1 + r.Below(28)));
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "TX-%08" PRId64, r.Below(100000000));
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "%010" PRId64, n + 1000000);
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "%d %s Street, Suite %d", static_cast<int>(1 + r.Below(9999)),
                Pick(r, kWords), static_cast<int>(1 + r.Below(900)));
  BindText(s, i++, buf);
  BindText(s, i++, kCities[city]);
  BindText(s, i++, kStates[city]);
  std::snprintf(buf, sizeof buf, "%05d", static_cast<int>(r.Below(99999)));
  BindText(s, i++, buf);
  BindText(s, i++, kCountries[city]);
  std::snprintf(buf, sizeof buf, "%.6f", -60.0 + static_cast<double>(r.Below(120000000)) / 1e6);
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "%.6f", -170.0 + static_cast<double>(r.Below(340000000)) / 1e6);
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "orders%" PRId64 "@customer%" PRId64 ".example", n, n % 997);
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "+1 425 555 %04d", static_cast<int>(r.Below(10000)));
  BindText(s, i++, buf);
  std::snprintf(buf, sizeof buf, "https://www.customer%" PRId64 ".example", n);
  BindText(s, i++, buf);
  if (r.Below(4) == 0) {
    sqlite3_bind_null(s, i++);
  } else {
    std::snprintf(buf, sizeof buf,
                  "Key account since %d; deliveries on weekdays only, call ahead. Ref %" PRId64,
                  static_cast<int>(1995 + r.Below(30)), n);
    BindText(s, i++, buf);
  }
  sqlite3_bind_int64(s, i++, seq);
}

void BindUpdate(sqlite3_stmt* s, Random& r, int64_t recid, int64_t seq) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%02" PRId64, r.Below(500) * 1000, r.Below(100));
  BindText(s, 1, buf);
  std::snprintf(buf, sizeof buf, "Updated Customer %" PRId64 " rev %" PRId64, recid, seq);
  BindText(s, 2, buf);
  sqlite3_bind_int64(s, 3, seq);
  sqlite3_bind_int64(s, 4, recid);
}

int64_t Arg(const char* text) {
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (end == text || *end) Die(std::string("not a number: ") + text);
  return v;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

// ---- schema, generate, baseline, compare ----

int Schema(const std::string& fo, const std::string& ce) {
  if (fo != "-") Db(fo).Exec(kFoSchema);
  if (ce != "-") Db(ce).Exec(kCeSchema);
  return 0;
}

int Generate(const std::string& fo, int64_t n) {
  Db db(fo);
  auto start = Clock::now();
  db.Exec("BEGIN");
  sqlite3_stmt* s = db.Prepare(kInsertCustomer);
  for (int64_t i = 1; i <= n; ++i) {
    BindCustomer(s, "C", i, 0);
    db.Step(s);
  }
  db.Exec("COMMIT");
  std::printf("generated %" PRId64 " customers in %.1f s\n", n, Seconds(start, Clock::now()));
  return 0;
}

int Baseline(const std::string& fo, const std::string& ce) {
  // The target as duet opens it: WAL, synchronous=FULL.
  Db db(ce, false);
  db.Exec("PRAGMA journal_mode=WAL");
  db.Exec("PRAGMA synchronous=FULL");
  std::string columns, select;
  for (size_t i = 0; i < std::size(kCeColumns); ++i) {
    columns += std::string(i ? ", " : "") + kCeColumns[i];
    select += std::string(i ? ", " : "") + kFoExpressions[i];
  }
  std::string sql = "INSERT INTO bench_account (" + columns + ") SELECT " + select +
                    " FROM fo.BenchCustomer WHERE PARTYTYPE = 'Organization' ORDER BY RECID";
  auto start = Clock::now();
  db.Exec("ATTACH DATABASE '" + fo + "' AS fo");
  db.Exec("BEGIN");
  db.Exec(sql);
  db.Exec("COMMIT");
  double seconds = Seconds(start, Clock::now());
  int64_t rows = db.Int("SELECT count(*) FROM bench_account");
  std::printf("baseline: %" PRId64 " rows in %.2f s: %.0f rows/s\n", rows, seconds,
              static_cast<double>(rows) / seconds);
  return 0;
}

bool Skip(const char* part) {
  const char* skip = std::getenv("DUET_BENCH_FLOOR_SKIP");
  return skip && std::strstr(skip, part) != nullptr;
}

// The floor's base: the average size of duet's base for this shape
// (docs/performance.md, issue 14: version 2 of runtime/engine/base_codec.h).
constexpr size_t kFloorBaseBytes = 214;

int Floor(const std::string& fo, const std::string& ce, const std::string& state_path) {
  Db target(ce, false);
  target.Exec("PRAGMA journal_mode=WAL");
  target.Exec("PRAGMA synchronous=FULL");
  target.Exec(
      "CREATE TABLE IF NOT EXISTS duet_changelog (seq INTEGER PRIMARY KEY, tid INTEGER NOT NULL,"
      " rid, op INTEGER NOT NULL, at INTEGER NOT NULL, origin TEXT);"
      "CREATE INDEX IF NOT EXISTS duet_changelog_delete ON duet_changelog (tid, rid)"
      " WHERE op = 3;"
      "CREATE TRIGGER IF NOT EXISTS floor_insert AFTER INSERT ON bench_account BEGIN"
      " INSERT INTO duet_changelog (tid, rid, op, at) VALUES (1, NEW.rowid, 1,"
      " CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)); END");
  if (Skip("trigger")) target.Exec("DROP TRIGGER floor_insert");
  Db state(state_path, false);
  state.Exec("PRAGMA journal_mode=WAL");
  state.Exec("PRAGMA synchronous=NORMAL");
  state.Exec(
      "CREATE TABLE IF NOT EXISTS duet_link (map_id INTEGER NOT NULL, left_id NOT NULL,"
      " right_id NOT NULL, base BLOB NOT NULL, left_position BLOB NOT NULL,"
      " right_position BLOB NOT NULL, PRIMARY KEY (map_id, left_id)) WITHOUT ROWID;"
      "CREATE UNIQUE INDEX IF NOT EXISTS duet_link_right ON duet_link (map_id, right_id)");
  Db source(fo, false);
  std::string columns, marks, select;
  for (size_t i = 0; i < std::size(kCeColumns); ++i) {
    columns += std::string(i ? ", " : "") + kCeColumns[i];
    marks += i ? ", ?" : "?";
    select += std::string(", ") + kFoExpressions[i];
  }
  sqlite3_stmt* read = source.Prepare(
      "SELECT RECID" + select +
      " FROM BenchCustomer WHERE PARTYTYPE = 'Organization' AND RECID > ?1 ORDER BY RECID"
      " LIMIT 5000");
  sqlite3_stmt* find = target.Prepare(
      "SELECT rowid FROM bench_account WHERE msdyn_companycode = ?1 AND accountnumber = ?2");
  sqlite3_stmt* insert =
      target.Prepare(std::string(Skip("ignore") ? "INSERT" : "INSERT OR IGNORE") +
                     " INTO bench_account (" + columns + ") VALUES (" + marks + ")");
  sqlite3_stmt* link = state.Prepare(
      "INSERT INTO duet_link (map_id, left_id, right_id, base, left_position, right_position)"
      " VALUES (1, ?1, ?2, ?3, ?4, ?4)");
  const int n = static_cast<int>(std::size(kCeColumns));
  std::string base;
  int64_t rows = 0;
  int64_t cursor = 0;
  auto start = Clock::now();
  for (;;) {
    target.Exec("BEGIN IMMEDIATE");
    state.Exec("BEGIN IMMEDIATE");
    sqlite3_bind_int64(read, 1, cursor);
    int page = 0;
    while (sqlite3_step(read) == SQLITE_ROW) {
      ++page;
      cursor = sqlite3_column_int64(read, 0);
      sqlite3_bind_value(find, 1, sqlite3_column_value(read, 1));
      sqlite3_bind_value(find, 2, sqlite3_column_value(read, 2));
      if (!Skip("find") && sqlite3_step(find) == SQLITE_ROW) Die("floor: the target is not empty");
      sqlite3_reset(find);
      // A base of kFloorBaseBytes made of the row's image (a value a byte
      // of tag and its text).
      base.clear();
      for (int copy = 0; copy < 2; ++copy) {
        for (int i = 0; i < n; ++i) {
          int type = sqlite3_column_type(read, i + 1);
          base.push_back(static_cast<char>(type));
          if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
            int64_t bits = sqlite3_column_int64(read, i + 1);
            base.append(reinterpret_cast<const char*>(&bits), sizeof bits);
          } else if (type == SQLITE_TEXT) {
            base.append(reinterpret_cast<const char*>(sqlite3_column_text(read, i + 1)),
                        static_cast<size_t>(sqlite3_column_bytes(read, i + 1)));
          }
        }
      }
      base.resize(kFloorBaseBytes);
      for (int i = 0; i < n; ++i)
        sqlite3_bind_value(insert, i + 1, sqlite3_column_value(read, i + 1));
      target.Step(insert);
      int64_t right = sqlite3_last_insert_rowid(target.handle());
      sqlite3_bind_int64(link, 1, cursor);
      sqlite3_bind_int64(link, 2, right);
      sqlite3_bind_blob(link, 3, base.data(), static_cast<int>(base.size()), SQLITE_STATIC);
      // A position of the same size as the SQLite endpoint's (8 bytes).
      char position[8];
      for (int b = 0; b < 8; ++b) position[b] = static_cast<char>(right >> (56 - 8 * b));
      sqlite3_bind_blob(link, 4, position, sizeof position, SQLITE_TRANSIENT);
      if (!Skip("link")) state.Step(link);
    }
    sqlite3_reset(read);
    target.Exec("COMMIT");
    state.Exec("COMMIT");
    rows += page;
    if (page == 0) break;
  }
  double seconds = Seconds(start, Clock::now());
  std::printf("floor: %" PRId64 " rows in %.2f s: %.0f rows/s\n", rows, seconds,
              static_cast<double>(rows) / seconds);
  return 0;
}

int Compare(const std::string& ce, const std::string& other) {
  Db db(ce, false);
  db.Exec("ATTACH DATABASE '" + other + "' AS o");
  // Floats within 1e-9 (duet reads the decimal(32, 6) number as a decimal and
  // converts it to float; SQL copies the stored double); the rest exactly.
  std::string on =
      "a.msdyn_companycode = b.msdyn_companycode AND a.accountnumber = b.accountnumber";
  std::string differ;
  for (const char* c : kCeColumns) {
    std::string col = c;
    if (!differ.empty()) differ += " OR ";
    if (col == "address1_latitude" || col == "address1_longitude" || col == "creditlimit") {
      differ += "abs(a." + col + " - b." + col + ") > 1e-9 OR (a." + col + " IS NULL) <> (b." +
                col + " IS NULL)";
    } else {
      differ += "a." + col + " IS NOT b." + col;
    }
  }
  int64_t rows = db.Int("SELECT count(*) FROM bench_account");
  int64_t others = db.Int("SELECT count(*) FROM o.bench_account");
  int64_t bad = db.Int("SELECT count(*) FROM bench_account a LEFT JOIN o.bench_account b ON " + on +
                       " WHERE b.accountid IS NULL OR " + differ);
  std::printf("compare: %" PRId64 " rows vs %" PRId64 "; %" PRId64 " missing or different\n", rows,
              others, bad);
  return rows == others && bad == 0 ? 0 : 1;
}

// ---- capture overhead ----

int Capture(const std::string& path, int64_t rows) {
  Db db(path);
  sqlite3_stmt* insert = db.Prepare(kInsertCustomer);
  sqlite3_stmt* update = db.Prepare(kUpdateCustomer);
  Random r{42};
  int64_t base = db.Int("SELECT coalesce(max(RECID), 0) FROM BenchCustomer");
  auto cpu = [] {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
  };
  auto run = [&](const char* label, bool one_txn, bool inserts, int64_t first) {
    auto start = Clock::now();
    double cpu_start = cpu();
    if (one_txn) db.Exec("BEGIN");
    for (int64_t i = 0; i < rows; ++i) {
      if (inserts) {
        BindCustomer(insert, "K", first + i, 0);
        db.Step(insert);
      } else {
        BindUpdate(update, r, first + i, first + i);
        db.Step(update);
      }
    }
    if (one_txn) db.Exec("COMMIT");
    double seconds = Seconds(start, Clock::now());
    double cpu_seconds = cpu() - cpu_start;
    std::printf("capture %s %.0f %.0f\n", label, static_cast<double>(rows) / seconds,
                static_cast<double>(rows) / cpu_seconds);
  };
  // Each phase touches rows of its own.
  run("insert_one_txn", true, true, base + 1);
  run("update_one_txn", true, false, base + 1);
  run("insert_single", false, true, base + rows + 1);
  run("update_single", false, false, base + rows + 1);
  return 0;
}

// ---- live sync: latency and throughput ----

// What the writer committed: per change, its stamp and commit time.
struct Committed {
  std::vector<double> at;  // seconds since the start, index = seq - first_seq
  std::atomic<int64_t> count{0};
};

// Single-row application transactions on fo: half inserts of new customers,
// half updates of random existing customers, each stamping MODIFIEDSEQ with
// its sequence number. rate <= 0: as fast as possible.
void Writer(const std::string& fo, double rate, double seconds, int64_t first_seq,
            Clock::time_point t0, Committed* out) {
  Db db(fo);
  sqlite3_stmt* insert = db.Prepare(kInsertCustomer);
  sqlite3_stmt* update = db.Prepare(kUpdateCustomer);
  // Updates touch distinct rows (a stride through the existing ones), so every
  // change leaves its own stamp on ce: a row changed twice before duet reads
  // it would be synced once, with the newer stamp, and the older stamp would
  // never appear.
  int64_t existing = db.Int("SELECT max(RECID) FROM BenchCustomer");
  int64_t stride = 1000003;
  while (std::gcd(stride, existing) != 1) stride += 2;
  Random r{static_cast<uint64_t>(first_seq)};
  int64_t offset = r.Below(existing);
  for (int64_t i = 0; i < static_cast<int64_t>(out->at.size()); ++i) {
    if (rate > 0) {
      auto due = t0 + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(i) / rate));
      if (Seconds(t0, due) >= seconds) break;
      std::this_thread::sleep_until(due);
    } else if (Seconds(t0, Clock::now()) >= seconds) {
      break;
    }
    int64_t seq = first_seq + i;
    if (i % 2 == 0) {
      BindCustomer(insert, "L", seq, seq);
      db.Step(insert);  // autocommit: one transaction
    } else {
      BindUpdate(update, r, 1 + (offset + (i / 2) * stride) % existing, seq);
      db.Step(update);
    }
    out->at[static_cast<size_t>(i)] = Seconds(t0, Clock::now());
    out->count.store(i + 1, std::memory_order_release);
  }
}

// Polls ce for stamps. Every change writes a stamp of its own (see Writer),
// so change i is on ce when stamp first_seq + i is. On every commit to ce
// (PRAGMA data_version), the stamps at or above the lowest one not yet seen
// are read through the index on msdyn_modifiedseq; `seen[i]` is when stamp i
// was first read, in microseconds since the start.
struct Probe {
  std::vector<std::atomic<int64_t>> seen;
  std::atomic<int64_t> applied{0};                  // changes [0, applied) are all seen
  std::vector<std::pair<double, int64_t>> samples;  // (time, applied)
};

void Poll(const std::string& ce, int64_t first_seq, Clock::time_point t0,
          const std::atomic<bool>* stop, double sample_every, Probe* out) {
  Db db(ce, false);
  sqlite3_stmt* version = db.Prepare("PRAGMA data_version");
  sqlite3_stmt* stamps =
      db.Prepare("SELECT msdyn_modifiedseq FROM bench_account WHERE msdyn_modifiedseq >= ?1");
  int64_t last_version = -1;
  int64_t applied = 0;
  const int64_t n = static_cast<int64_t>(out->seen.size());
  double next_sample = 0;
  while (true) {
    bool stopping = stop->load(std::memory_order_acquire);
    sqlite3_step(version);
    int64_t v = sqlite3_column_int64(version, 0);
    sqlite3_reset(version);
    if (v != last_version) {
      last_version = v;
      int64_t now =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      sqlite3_bind_int64(stamps, 1, first_seq + applied);
      while (sqlite3_step(stamps) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(stamps, 0) - first_seq;
        if (i >= 0 && i < n && out->seen[static_cast<size_t>(i)].load() < 0) {
          out->seen[static_cast<size_t>(i)].store(now);
        }
      }
      sqlite3_reset(stamps);
      while (applied < n && out->seen[static_cast<size_t>(applied)].load() >= 0) ++applied;
      out->applied.store(applied, std::memory_order_release);
    }
    double now = Seconds(t0, Clock::now());
    if (now >= next_sample) {
      out->samples.emplace_back(now, applied);
      next_sample = now + sample_every;
    }
    if (stopping) {
      out->samples.emplace_back(now, applied);
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

double SeenSeconds(const Probe& p, int64_t i) {
  int64_t us = p.seen[static_cast<size_t>(i)].load();
  return us < 0 ? -1 : static_cast<double>(us) / 1e6;
}

// Runs the writer for `seconds`, then waits up to `drain` seconds for ce to
// catch up.
struct LiveResult {
  int64_t written = 0;
  double write_seconds = 0;
  Committed committed;
  Probe probe;
};

void RunLive(const std::string& fo, const std::string& ce, double rate, double seconds,
             double drain, double sample_every, LiveResult* result) {
  int64_t first_seq;
  {
    Db f(fo, false);
    first_seq = f.Int("SELECT coalesce(max(MODIFIEDSEQ), 0) FROM BenchCustomer") + 1;
    first_seq = std::max<int64_t>(first_seq, 10000000);  // accounts L0xxxxxxx do not collide
    Db c(ce, false);
    first_seq = std::max<int64_t>(
        first_seq, c.Int("SELECT coalesce(max(msdyn_modifiedseq), 0) FROM bench_account") + 1);
  }
  size_t capacity = static_cast<size_t>(rate > 0 ? rate * seconds + 16 : 200000 * seconds);
  result->committed.at.assign(capacity, 0);
  result->probe.seen = std::vector<std::atomic<int64_t>>(capacity);
  for (auto& x : result->probe.seen) x.store(-1);
  std::atomic<bool> stop{false};
  auto t0 = Clock::now();
  std::thread poller(Poll, ce, first_seq, t0, &stop, sample_every, &result->probe);
  Writer(fo, rate, seconds, first_seq, t0, &result->committed);
  result->written = result->committed.count.load();
  result->write_seconds = result->written ? result->committed.at[result->written - 1] : 0;
  // Drain: wait until every change is on ce.
  auto deadline = Clock::now() +
                  std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(drain));
  while (Clock::now() < deadline &&
         result->probe.applied.load(std::memory_order_acquire) < result->written) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.store(true, std::memory_order_release);
  poller.join();
}

int Live(const std::string& fo, const std::string& ce, double rate, double seconds) {
  LiveResult r;
  RunLive(fo, ce, rate, seconds, 30, 1.0, &r);
  std::vector<double> latency;
  int64_t missing = 0;
  for (int64_t i = 0; i < r.written; ++i) {
    double seen = SeenSeconds(r.probe, i);
    if (seen < 0) {
      ++missing;
      continue;
    }
    latency.push_back(1000.0 * (seen - r.committed.at[static_cast<size_t>(i)]));
  }
  std::printf("live: %" PRId64 " single-row transactions on fo in %.2f s (%.0f/s; target %.0f/s)\n",
              r.written, r.write_seconds, static_cast<double>(r.written) / r.write_seconds, rate);
  std::printf(
      "live: latency fo commit -> seen on ce: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms,"
      " p99.9 %.2f ms, max %.2f ms; %" PRId64 " not seen within 30 s\n",
      Percentile(latency, 50), Percentile(latency, 90), Percentile(latency, 99),
      Percentile(latency, 99.9), Percentile(latency, 100), missing);
  double p50 = Percentile(latency, 50), p99 = Percentile(latency, 99);
  std::printf(
      "RESULT live latency at %.0f changes/s: p50 %.2f ms (goal < 10 ms: %s), p99 %.2f ms"
      " (goal < 50 ms: %s)\n",
      rate, p50, p50 < 10 && missing == 0 ? "met" : "MISSED", p99,
      p99 < 50 && missing == 0 ? "met" : "MISSED");
  return missing == 0 ? 0 : 1;
}

int Flood(const std::string& fo, const std::string& ce, double seconds) {
  LiveResult r;
  RunLive(fo, ce, 0, seconds, 300, 1.0, &r);
  const auto& at = r.committed.at;
  int64_t n = r.written;
  double caught_up = 0;  // when the last change to arrive arrived; -1: one never did
  for (int64_t i = 0; i < n && caught_up >= 0; ++i) {
    double seen = SeenSeconds(r.probe, i);
    caught_up = seen < 0 ? -1 : std::max(caught_up, seen);
  }
  std::printf("flood: %" PRId64 " single-row transactions on fo in %.2f s: %.0f/s written\n", n,
              r.write_seconds, static_cast<double>(n) / r.write_seconds);
  if (caught_up < 0) {
    int64_t applied = r.probe.applied.load();
    std::printf("flood: NOT caught up after 300 s: %" PRId64 " of %" PRId64 " on ce\n", applied, n);
    return 1;
  }
  double reconciled = static_cast<double>(n) / caught_up;
  std::printf(
      "flood: ce caught up %.2f s after the start (%.2f s after the last write):"
      " %.0f changes/s reconciled\n",
      caught_up, caught_up - r.write_seconds, reconciled);
  std::printf(
      "RESULT sustained throughput: %.0f single-row changes/s reconciled (goal >= 10000:"
      " %s); the generator wrote %.0f/s\n",
      reconciled, reconciled >= 10000 ? "met" : "MISSED", static_cast<double>(n) / r.write_seconds);
  // Backlog over time: written minus applied, per second.
  std::printf("flood: per second: written, on ce, backlog:");
  size_t w = 0;
  for (const auto& [t, applied] : r.probe.samples) {
    while (w < static_cast<size_t>(n) && at[w] <= t) ++w;
    std::printf(" [%.0fs %zu %" PRId64 " %" PRId64 "]", t, w, applied,
                static_cast<int64_t>(w) - applied);
  }
  std::printf("\n");
  // Steady-state rate while the writer ran: changes applied in the second
  // half of the write window.
  double half = r.write_seconds / 2;
  int64_t a0 = -1, a1 = -1;
  double t0 = 0, t1 = 0;
  for (const auto& [t, applied] : r.probe.samples) {
    if (a0 < 0 && t >= half) {
      a0 = applied;
      t0 = t;
    }
    if (t <= r.write_seconds) {
      a1 = applied;
      t1 = t;
    }
  }
  if (a0 >= 0 && t1 > t0) {
    std::printf("flood: reconciled while the writer ran (second half): %.0f changes/s\n",
                static_cast<double>(a1 - a0) / (t1 - t0));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  auto need = [&](size_t n) {
    if (a.size() != n) {
      std::fprintf(stderr, "usage: see the comment at the top of bench/sync/sync_bench.cc\n");
      std::exit(2);
    }
  };
  if (a.empty()) need(1);
  const std::string& cmd = a[0];
  if (cmd == "schema") return need(3), Schema(a[1], a[2]);
  if (cmd == "generate") return need(3), Generate(a[1], Arg(a[2].c_str()));
  if (cmd == "baseline") return need(3), Baseline(a[1], a[2]);
  if (cmd == "floor") return need(4), Floor(a[1], a[2], a[3]);
  if (cmd == "compare") return need(3), Compare(a[1], a[2]);
  if (cmd == "capture") return need(3), Capture(a[1], Arg(a[2].c_str()));
  if (cmd == "live") {
    need(5);
    return Live(a[1], a[2], static_cast<double>(Arg(a[3].c_str())),
                static_cast<double>(Arg(a[4].c_str())));
  }
  if (cmd == "flood") return need(4), Flood(a[1], a[2], static_cast<double>(Arg(a[3].c_str())));
  need(0);
  return 2;
}
