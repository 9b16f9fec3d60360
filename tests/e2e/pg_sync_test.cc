// PostgreSQL end to end as an operator and the applications use it (issue
// 15; docs/postgresql.md): the real duet with either system, or both, and
// the state store on a throwaway PostgreSQL 15 server, psql and the sqlite3
// client as the applications. Live sync with `duet run` while applications
// insert, update and delete on both sides; conflicts under a rule (`newest`
// decided by PostgreSQL's commit times); duet killed with SIGKILL during
// initial and live sync; the server's own faults (an immediate stop, duet's
// sessions terminated, a row lock held past lock_timeout_ms, a table altered
// under duet); rows the target refuses. The password is given as
// ${DUET_PG_PASSWORD}, and PgE2eTest::TearDown fails a test that printed it.
#include <gmock/gmock.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace duet::e2e {
namespace {

using nlohmann::json;
using testing::HasSubstr;

enum class Where { kSqlite, kPg };

// Where each system and the state store are.
struct Layout {
  const char* name;
  Where fo;
  Where ce;
  Where state;
};

constexpr char kFoDb[] = "duet";  // fo's database on the server
constexpr char kCeDb[] = "crm";   // ce's

// A fixture whose systems and state store are where a Layout says: tables
// made with `duetc schema` (PostgreSQL and SQLite dialects), reached by the
// same SQL on either kind of database (names are double-quoted, which both
// accept).
class PgSyncTest : public PgE2eTest {
 protected:
  void Configure(const Layout& layout, const std::vector<std::string>& maps,
                 const json& extra = json::object()) {
    layout_ = layout;
    ASSERT_TRUE(pg_.GrantReplicationOrigins().ok());
    if (layout.ce == Where::kPg) CreateDatabase(kCeDb);
    Compile(maps);
    for (const char* system : {"fo", "ce"}) {
      bool pg = (std::string(system) == "fo" ? layout.fo : layout.ce) == Where::kPg;
      std::string ddl = pg ? PgSchema(maps, system) : SqliteSchema(maps, system);
      ASSERT_FALSE(ddl.empty());
      ASSERT_TRUE(Exec(system, ddl));
    }
    json config = extra;
    config["systems"] = {{"fo", layout.fo == Where::kPg ? PgUrl(kFoDb) : "sqlite:fo.db"},
                         {"ce", layout.ce == Where::kPg ? PgUrl(kCeDb) : "sqlite:ce.db"}};
    if (layout.state == Where::kPg) {
      PsqlIn(kFoDb, "CREATE SCHEMA duet_state");
      config["state"] = PgUrl(kFoDb, "duet_state");
    }
    WriteConfig(config);
  }

  std::string SqliteSchema(const std::vector<std::string>& maps, const std::string& system) {
    std::vector<std::string> argv = {GetTools().duetc, "schema", "--system", system};
    for (const std::string& file : maps)
      argv.push_back((fs::path(GetTools().maps_dir) / file).string());
    RunResult r = RunProcess(argv, dir_, dir_ / ".scratch");
    EXPECT_EQ(r.exit_code, kExitOk) << Show(argv, r);
    return r.out;
  }

  bool IsPg(const std::string& system) const {
    return (system == "fo" ? layout_.fo : layout_.ce) == Where::kPg;
  }
  // Runs `sql` as `system`'s application; false (and a test failure) when
  // it fails.
  bool Exec(const std::string& system, const std::string& sql) {
    if (!IsPg(system)) return (system == "fo" ? fo_ : ce_).Exec(sql + ";");
    Expected<std::string> out = TryPsqlIn(system == "fo" ? kFoDb : kCeDb, sql);
    EXPECT_TRUE(out.ok()) << out.status().ToString() << "\n" << sql;
    return out.ok();
  }
  // The single text column of `sql`'s rows, sorted (bytewise, so the
  // servers' collations do not matter).
  std::vector<std::string> Lines(const std::string& system, const std::string& sql) {
    std::vector<std::string> lines;
    if (IsPg(system)) {
      std::istringstream in(PsqlIn(system == "fo" ? kFoDb : kCeDb, sql));
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    } else {
      for (const auto& row : (system == "fo" ? fo_ : ce_).Query(sql)) lines.push_back(row[0]);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  // `duet status --json` must say each map is live with nothing pending.
  void ExpectSettled() {
    json status = StatusJson();
    ASSERT_TRUE(status.contains("maps")) << status.dump(2);
    for (const json& map : status["maps"]) {
      EXPECT_EQ(map["state"], "live") << map.dump();
      EXPECT_EQ(map["backlog"]["fo"], 0) << map.dump();
      EXPECT_EQ(map["backlog"]["ce"], 0) << map.dump();
      EXPECT_EQ(map["errors"], 0) << map.dump();
    }
  }
  json ErrorsJson() {
    RunResult r = Duet("errors", {"list", "--json"});
    EXPECT_EQ(r.exit_code, kExitOk) << r.err;
    json items = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(items.is_array()) << r.out;
    return items.is_array() ? items : json::array();
  }
  std::string RunLogs() const {
    std::string logs;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".err") logs += ReadFile(entry.path());
    }
    return logs;
  }

  Layout layout_{};
};

// ---------------------------------------------------------------------------
// Live sync of maps/items.duet. The model holds what both sides must end
// with: code -> name, qty, fo's status text ("" for null).

struct Item {
  std::string name;
  std::string qty;
  std::string status;
};
using Model = std::map<std::string, Item>;

constexpr char kFoItems[] =
    "SELECT \"CODE\" || ':' || coalesce(\"NAME\", '') || ':' || coalesce(CAST(\"QTY\" AS text),"
    " '') || ':' || coalesce(\"STATUS\", '') FROM \"Item\"";
constexpr char kCeItems[] =
    "SELECT code || ':' || coalesce(name, '') || ':' || coalesce(CAST(qty AS text), '') || ':' ||"
    " coalesce(CAST(status AS text), '') FROM item";

std::string CeStatus(const std::string& fo_status) {
  static const std::map<std::string, std::string> kValues = {
      {"", ""}, {"open", "1"}, {"closed", "2"}, {"hold", "3"}};
  return kValues.at(fo_status);
}

class PgItemsTest : public PgSyncTest {
 protected:
  std::vector<std::string> Want(const Model& model, bool ce) const {
    std::vector<std::string> lines;
    for (const auto& [code, item] : model) {
      lines.push_back(code + ":" + item.name + ":" + item.qty + ":" +
                      (ce ? CeStatus(item.status) : item.status));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }
  // Polls until both sides hold exactly `model` (a duplicate is an extra
  // line, a lost change a wrong one); a test failure showing both otherwise.
  void ExpectConverges(const Model& model) {
    std::vector<std::string> want_fo = Want(model, false);
    std::vector<std::string> want_ce = Want(model, true);
    bool same = PollUntil(
        [&] { return Lines("fo", kFoItems) == want_fo && Lines("ce", kCeItems) == want_ce; });
    EXPECT_TRUE(same) << "fo: " << Diff(want_fo, Lines("fo", kFoItems))
                      << "\nce: " << Diff(want_ce, Lines("ce", kCeItems)) << "\n"
                      << RunLogs();
  }
  // What `got` lacks and what it has too many of (both sorted).
  static std::string Diff(const std::vector<std::string>& want,
                          const std::vector<std::string>& got) {
    std::vector<std::string> missing;
    std::vector<std::string> extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                        std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    return "missing " + testing::PrintToString(missing) + ", extra " +
           testing::PrintToString(extra);
  }
  void FoInsert(Model& model, const std::string& code, const std::string& name, int qty) {
    ASSERT_TRUE(Exec("fo", "INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\") VALUES ('" + code +
                               "', '" + name + "', " + std::to_string(qty) + ")"));
    model[code] = {name, std::to_string(qty), ""};
  }
  void CeInsert(Model& model, const std::string& code, const std::string& name, int qty) {
    ASSERT_TRUE(Exec("ce", "INSERT INTO item (code, name, qty) VALUES ('" + code + "', '" + name +
                               "', " + std::to_string(qty) + ")"));
    model[code] = {name, std::to_string(qty), ""};
  }

  // Rows on both sides before install (A2 on both, matched by its key:
  // master fo and initial from fo give fo's values), synced by a live run.
  Model SeedAndStart(Process& run) {
    EXPECT_TRUE(Exec("fo",
                     "INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\", \"STATUS\") VALUES"
                     " ('A1', 'one', 1, 'open'), ('A2', 'two', 2, NULL),"
                     " ('A3', 'three', NULL, 'hold')"));
    EXPECT_TRUE(Exec("ce",
                     "INSERT INTO item (code, name, qty, status) VALUES ('A2', 'deux', 22, 2),"
                     " ('C1', 'ce', 7, 2)"));
    Model model = {{"A1", {"one", "1", "open"}},
                   {"A2", {"two", "2", ""}},
                   {"A3", {"three", "", "hold"}},
                   {"C1", {"ce", "7", "closed"}}};
    EXPECT_EQ(Duet("install").exit_code, kExitOk) << RunLogs();
    run = StartRun();
    return model;
  }

  // Rounds of application transactions on both sides, none waiting for
  // duet: inserts, updates of rows each side owns, and deletes (C2 made and
  // deleted on ce, perhaps before duet saw it; A3 deleted on fo).
  void Workload(Model& model, int rounds) {
    for (int i = 1; i <= rounds; ++i) {
      std::string n = std::to_string(i);
      FoInsert(model, "F" + n, "fo" + n, i);
      CeInsert(model, "C" + std::to_string(i + 1), "ce" + n, i);
      ASSERT_TRUE(Exec("fo", "UPDATE \"Item\" SET \"NAME\" = 'a1v" + n + "', \"QTY\" = " + n +
                                 " WHERE \"CODE\" = 'A1'"));
      model["A1"].name = "a1v" + n;
      model["A1"].qty = n;
      ASSERT_TRUE(Exec("ce", "UPDATE item SET qty = " + std::to_string(100 + i) +
                                 ", status = 1 WHERE code = 'C1'"));
      model["C1"] = {"ce", std::to_string(100 + i), "open"};
      if (i == 2) {
        ASSERT_TRUE(Exec("fo", "DELETE FROM \"Item\" WHERE \"CODE\" = 'A3'"));
        ASSERT_TRUE(Exec("ce", "DELETE FROM item WHERE code = 'C2'"));
        model.erase("A3");
        model.erase("C2");
      }
    }
  }
};

class PgLiveTest : public PgItemsTest, public testing::WithParamInterface<Layout> {};

// Issue 15: initial sync with rows on both sides, then live sync while the
// applications write on both sides; both end equal to the model, and
// status says live with nothing pending and no error.
TEST_P(PgLiveTest, InitialThenLiveSyncBothWays) {
  Configure(GetParam(), {"items.duet"});
  Process run;
  Model model = SeedAndStart(run);
  ExpectConverges(model);
  Workload(model, 4);
  ExpectConverges(model);
  StopRun(run);
  ExpectSettled();
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, PgLiveTest,
    testing::Values(Layout{"PgBothSidesStateOnPg", Where::kPg, Where::kPg, Where::kPg},
                    Layout{"SqliteFoPgCe", Where::kSqlite, Where::kPg, Where::kSqlite}),
    [](const testing::TestParamInfo<Layout>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------
// Conflicts (maps/conflicts.duet) with fo on PostgreSQL and the state store
// there, ce on SQLite: edits on both sides while duet is stopped, then one
// `run --once`.

class PgConflictsTest : public PgSyncTest {
 protected:
  void SetUp() override {
    PgSyncTest::SetUp();
    if (HasFatalFailure()) return;
    Configure({"conflicts", Where::kPg, Where::kSqlite, Where::kPg}, {"conflicts.duet"});
    for (const char* table : {"ConfFo", "ConfCe", "ConfNewest", "ConfManual"}) {
      ASSERT_TRUE(Exec("fo", std::string("INSERT INTO \"") + table +
                                 "\" (\"CODE\", \"A\", \"B\") VALUES ('R1', 'a0', 'b0'),"
                                 " ('R2', 'a0', 'b0')"));
    }
    ASSERT_EQ(Duet("install").exit_code, kExitOk);
    ASSERT_EQ(Duet("run", {"--once"}).exit_code, kExitOk);
    ASSERT_EQ(ce_.Int("SELECT count(*) FROM conf_manual"), 2);
  }
  // A and B of every row of a table pair, "CODE:A:B" on each side.
  std::vector<std::string> Fo(const std::string& table) {
    return Lines("fo", "SELECT \"CODE\" || ':' || \"A\" || ':' || \"B\" FROM \"" + table + "\"");
  }
  std::vector<std::string> Ce(const std::string& table) {
    return Lines("ce", "SELECT code || ':' || a || ':' || b FROM " + table);
  }
};

// master fo / master ce settle a same-field conflict and keep the other
// side's edit of another field; `newest` compares PostgreSQL's commit time
// with the SQLite change's capture time (set an hour ahead for R1, to 2001
// for R2); master manual opens a conflict item and changes nothing.
TEST_F(PgConflictsTest, RulesDecideWithPostgreSQLOnOneSide) {
  for (const char* table : {"ConfFo", "ConfCe", "ConfNewest", "ConfManual"}) {
    ASSERT_TRUE(Exec(
        "fo", std::string("UPDATE \"") + table + "\" SET \"A\" = 'fo' || \"CODE\" WHERE TRUE"));
  }
  ASSERT_TRUE(
      ce_.Exec("UPDATE conf_fo SET a = 'ce' || code, b = 'cb';"
               "UPDATE conf_ce SET a = 'ce' || code, b = 'cb';"
               "UPDATE conf_manual SET a = 'ce' || code;"));
  int64_t newest_r1 = ChangelogEnd(ce_);
  ASSERT_TRUE(ce_.Exec("UPDATE conf_newest SET a = 'ceR1' WHERE code = 'R1';"));
  int64_t newest_r2 = ChangelogEnd(ce_);
  ASSERT_TRUE(ce_.Exec("UPDATE conf_newest SET a = 'ceR2' WHERE code = 'R2';"));
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  SetCaptureTime(ce_, newest_r1, now_ms + 3600 * 1000);
  SetCaptureTime(ce_, newest_r2, 978307200000);  // 2001-01-01, before any commit here

  EXPECT_EQ(Duet("run", {"--once"}).exit_code, kExitRowErrors) << "the manual conflicts";
  std::vector<std::string> fo_wins = {"R1:foR1:cb", "R2:foR2:cb"};
  EXPECT_EQ(Fo("ConfFo"), fo_wins);
  EXPECT_EQ(Ce("conf_fo"), fo_wins);
  std::vector<std::string> ce_wins = {"R1:ceR1:cb", "R2:ceR2:cb"};
  EXPECT_EQ(Fo("ConfCe"), ce_wins);
  EXPECT_EQ(Ce("conf_ce"), ce_wins);
  std::vector<std::string> newest = {"R1:ceR1:b0", "R2:foR2:b0"};
  EXPECT_EQ(Fo("ConfNewest"), newest) << "newest by commit and capture times";
  EXPECT_EQ(Ce("conf_newest"), newest);
  EXPECT_EQ(Fo("ConfManual"), (std::vector<std::string>{"R1:foR1:b0", "R2:foR2:b0"}));
  EXPECT_EQ(Ce("conf_manual"), (std::vector<std::string>{"R1:ceR1:b0", "R2:ceR2:b0"}));
  json items = ErrorsJson();
  ASSERT_EQ(items.size(), 2u) << items.dump(2);
  for (const json& item : items) {
    EXPECT_EQ(item["map"], "conf_manual");
    EXPECT_EQ(item["kind"], "conflict");
  }
}

// ---------------------------------------------------------------------------
// Rows PostgreSQL refuses: ce on PostgreSQL with a CHECK and a varchar
// narrower than the map declares (a DBA's change after install); fo and the state store on SQLite.

TEST_F(PgItemsTest, RowsTheServerRefusesAreErrorItemsUntilRetried) {
  Configure({"bad rows", Where::kSqlite, Where::kPg, Where::kSqlite}, {"items.duet"});
  PsqlIn(kCeDb, "ALTER TABLE item ADD CONSTRAINT qty_not_negative CHECK (qty >= 0)");
  Model model;
  FoInsert(model, "B1", "fine", 1);
  FoInsert(model, "B2", "negative", -2);
  FoInsert(model, "B3", "far too long", 3);
  FoInsert(model, "B4", "fine too", 4);
  ASSERT_EQ(Duet("install").exit_code, kExitOk);
  PsqlIn(kCeDb, "ALTER TABLE item ALTER COLUMN name TYPE varchar(8)");
  EXPECT_EQ(Duet("run", {"--once"}).exit_code, kExitRowErrors);
  EXPECT_EQ(Lines("ce", kCeItems), (std::vector<std::string>{"B1:fine:1:", "B4:fine too:4:"}))
      << "the rest of the batch goes on";
  json items = ErrorsJson();
  ASSERT_EQ(items.size(), 2u) << items.dump(2);
  EXPECT_EQ(items[0]["kind"], "rejected");
  EXPECT_THAT(items[0]["reason"].get<std::string>(), HasSubstr("qty_not_negative"));
  EXPECT_THAT(items[1]["reason"].get<std::string>(), HasSubstr("too long"));

  PsqlIn(kCeDb,
         "ALTER TABLE item DROP CONSTRAINT qty_not_negative;"
         "ALTER TABLE item ALTER COLUMN name TYPE varchar(100)");
  RunResult retry = Duet("errors", {"retry", "--all"});
  EXPECT_EQ(retry.exit_code, kExitOk) << retry.out << retry.err;
  EXPECT_EQ(Lines("ce", kCeItems), Want(model, true));
  EXPECT_EQ(ErrorsJson().size(), 0u);
}

// ---------------------------------------------------------------------------
// duet killed with SIGKILL; PostgreSQL on both sides and under the state
// store. Small batches, so that a kill lands inside a sync.

class PgCrashTest : public PgItemsTest {
 protected:
  int64_t Count(const std::string& system, const std::string& where) {
    std::vector<std::string> n = Lines(
        system, system == "fo" ? "SELECT count(*) FROM \"Item\" WHERE \"CODE\" LIKE '" + where + "'"
                               : "SELECT count(*) FROM item WHERE code LIKE '" + where + "'");
    return n.size() == 1 ? std::stoll(n[0]) : -1;
  }
  // `n` rows coded PREFIX000.. in one application transaction on `system`.
  void InsertMany(Model& model, const std::string& system, const std::string& prefix, int n) {
    std::string values = "'" + prefix + "' || lpad(CAST(g AS text), 4, '0'), 'n' || g, g";
    ASSERT_TRUE(Exec(system, (system == "fo" ? "INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\")"
                                             : "INSERT INTO item (code, name, qty)") +
                                 std::string(" SELECT ") + values + " FROM generate_series(1, " +
                                 std::to_string(n) + ") g"));
    for (int g = 1; g <= n; ++g) {
      std::string digits = std::to_string(g);
      model[prefix + std::string(4 - digits.size(), '0') + digits] = {"n" + digits, digits, ""};
    }
  }
  std::string MapState() {
    json status = StatusJson();
    return status.contains("maps") && !status["maps"].empty() ? status["maps"][0].value("state", "")
                                                              : "";
  }
};

// Kills during initial sync (the map still `initial` afterwards, some rows
// copied and not all) and during live sync while both applications' big
// transactions are being applied (some of their rows on the other side and
// not all): each restart resumes, and the end has every row once.
TEST_F(PgCrashTest, KilledDuringInitialAndLiveSyncResumesWithNothingLostOrDoubled) {
  Configure({"crash", Where::kPg, Where::kPg, Where::kPg}, {"items.duet"},
            {{"initial_batch_size", 10}, {"batch_size", 50}});
  Model model;
  InsertMany(model, "fo", "I", 300);
  ASSERT_EQ(Duet("install").exit_code, kExitOk);

  int initial_kills = 0;
  for (int attempt = 0; attempt < 4 && initial_kills < 2; ++attempt) {
    int64_t before = Count("ce", "I%");
    Process run = StartRun();
    PollUntil([&] { return Count("ce", "I%") > before; });
    KillRun(run);
    int64_t copied = Count("ce", "I%");
    if (copied > before && copied < 300 && MapState() == "initial") ++initial_kills;
  }
  EXPECT_GE(initial_kills, 1) << "no kill landed inside initial sync";

  // Live once both initial passes are done (the data agrees before the
  // second pass, ce -> fo, ends): read from the store, which is on the
  // server, while duet runs.
  Process run = StartRun();
  ExpectConverges(model);
  ASSERT_TRUE(PollUntil([&] {
    return PsqlIn(kFoDb, "SELECT state FROM duet_state.duet_maps WHERE name = 'items'") == "live";
  }));
  int live_kills = 0;
  for (int round = 0; round < 2; ++round) {
    std::string fo_rows = "L" + std::to_string(round);
    std::string ce_rows = "M" + std::to_string(round);
    InsertMany(model, "fo", fo_rows, 100);
    InsertMany(model, "ce", ce_rows, 100);
    PollUntil([&] { return Count("ce", fo_rows + "%") > 0 || Count("fo", ce_rows + "%") > 0; });
    KillRun(run);
    int64_t there = Count("ce", fo_rows + "%") + Count("fo", ce_rows + "%");
    if (there > 0 && there < 200 && MapState() == "live") ++live_kills;
    ASSERT_TRUE(Exec(
        "fo", "UPDATE \"Item\" SET \"NAME\" = 'after' WHERE \"CODE\" = '" + fo_rows + "0001'"));
    model[fo_rows + "0001"].name = "after";
    run = StartRun();
  }
  EXPECT_GE(live_kills, 1) << "no kill landed inside live sync";
  ExpectConverges(model);
  StopRun(run);
  ExpectSettled();
}

// ---------------------------------------------------------------------------
// PostgreSQL's own faults under a running duet: both systems on the server,
// the state store on SQLite.

class PgFaultsTest : public PgItemsTest {
 protected:
  void SetUp() override {
    PgItemsTest::SetUp();
    if (HasFatalFailure()) return;
    Configure({"faults", Where::kPg, Where::kPg, Where::kSqlite}, {"items.duet"},
              {{"lock_timeout_ms", 200}});
    model_ = SeedAndStart(run_);
    ExpectConverges(model_);
  }

  Process run_;
  Model model_;
};

// An immediate stop of the server and its restart, then duet's sessions
// terminated (its write sessions and walsenders): duet says so, carries on,
// and the changes made since arrive.
TEST_F(PgFaultsTest, ServerCrashAndTerminatedSessionsAreTransient) {
  ASSERT_TRUE(pg_.StopImmediate().ok());
  ASSERT_TRUE(pg_.Start().ok());
  FoInsert(model_, "S1", "after crash", 1);
  CeInsert(model_, "S2", "after crash", 2);
  ExpectConverges(model_);

  Expected<int> ended = pg_.TerminateSessions("duet");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_GE(*ended, 2) << "duet's walsenders, at least";
  FoInsert(model_, "T1", "after kill", 1);
  CeInsert(model_, "T2", "after kill", 2);
  ExpectConverges(model_);
  RunResult r;
  EXPECT_FALSE(run_.TryWait(&r)) << "duet run ended:\n" << r.err;
  StopRun(run_);
  ExpectSettled();
}

// An application holds a row lock on ce far longer than lock_timeout_ms
// while fo changes that row: duet's batch fails as transient and is done
// again until the lock goes, and nothing is lost.
TEST_F(PgFaultsTest, RowLockHeldPastTheLockTimeoutIsRetried) {
  fs::path script = dir_ / "holder.sql";
  WriteFile(script,
            "BEGIN; UPDATE item SET name = name WHERE code = 'A1';"
            " SELECT pg_sleep(4); COMMIT;\n");
  Process holder;
  const char* bin_dir = std::getenv("DUET_PG_BINDIR");
  holder.Start({std::string(bin_dir != nullptr ? bin_dir : "/usr/lib/postgresql/15/bin") + "/psql",
                "-X", "-q", "-d",
                "host=127.0.0.1 port=" + std::to_string(pg_.port()) +
                    " dbname=crm user=duet application_name=holder"},
               dir_, dir_ / "holder.log", dir_ / "holder.log.txt", script,
               {{"PGPASSWORD", pg_.password()}});
  ASSERT_TRUE(PollUntil([&] {
    return PsqlIn(kCeDb,
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder'"
                  " AND query LIKE '%pg_sleep%'") == "1";
  }));
  ASSERT_TRUE(Exec("fo", "UPDATE \"Item\" SET \"NAME\" = 'while locked' WHERE \"CODE\" = 'A1'"));
  model_["A1"].name = "while locked";
  ExpectConverges(model_);
  holder.Wait(std::chrono::minutes(1));
  EXPECT_THAT(RunLogs(), HasSubstr("lock")) << "the transient failure is logged";
  StopRun(run_);
  ExpectSettled();
}

// A column dropped from ce's table under a running duet: a change that
// needs it stops the map with an error naming the table and the column;
// duet itself goes on running.
TEST_F(PgFaultsTest, ColumnDroppedUnderARunningDuetStopsTheMap) {
  PsqlIn(kCeDb, "ALTER TABLE item DROP COLUMN qty");
  ASSERT_TRUE(Exec("fo", "UPDATE \"Item\" SET \"QTY\" = 9 WHERE \"CODE\" = 'A1'"));
  EXPECT_TRUE(PollUntil([&] {
    std::string logs = RunLogs();
    return logs.find("item") != std::string::npos && logs.find("qty") != std::string::npos;
  })) << RunLogs();
  RunResult r;
  EXPECT_FALSE(run_.TryWait(&r)) << "duet run ended:\n" << r.err;
  StopRun(run_);
  json status = StatusJson();
  ASSERT_EQ(status["maps"].size(), 1u) << status.dump(2);
  std::string reason = status["maps"][0]["paused"].value("reason", "");
  EXPECT_THAT(reason, HasSubstr("'item'")) << status.dump(2);
  EXPECT_THAT(reason, HasSubstr("'qty'"));

  // The column back (empty), then resume from fo, whose table did not
  // change: a resync makes every pair agree, the change waiting included.
  PsqlIn(kCeDb, "ALTER TABLE item ADD COLUMN qty bigint");
  EXPECT_EQ(Duet("resume", {"items", "--from", "fo"}).exit_code, kExitOk);
  EXPECT_EQ(Duet("run", {"--once"}).exit_code, kExitOk);
  model_["A1"].qty = "9";
  ExpectConverges(model_);
}

}  // namespace
}  // namespace duet::e2e
