// Operating duet (docs/operations.md): the error queue commands, driven as
// an operator would, with the sqlite3 client as the applications and duet
// as a separate process, next to a running `duet run` and without one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class ErrorQueueTest : public E2eTest {
 protected:
  // `duet errors -c duet.json ARGS...`
  RunResult Errors(int exit_code, const std::vector<std::string>& args) {
    return DuetExpect(exit_code, "errors", args);
  }
  json ErrorsJson(const std::vector<std::string>& args) {
    std::vector<std::string> with_json = args;
    with_json.push_back("--json");
    RunResult r = Errors(kExitOk, with_json);
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  std::string Recid(const std::string& code) {
    return fo_.Value("SELECT RECID FROM Product WHERE CODE = '" + code + "'");
  }
  // conflicts.duet (four two-way maps over tables of CODE, A and B) with
  // the rows `fo_rows` and `ce_rows` inserts, configured and installed.
  void UseConflictMaps(const std::string& fo_rows, const std::string& ce_rows = "") {
    Compile({"conflicts.duet"});
    ASSERT_TRUE(fo_.Exec(kConflictsFo));
    ASSERT_TRUE(ce_.Exec(kConflictsCe));
    if (!fo_rows.empty()) {
      ASSERT_TRUE(fo_.Exec(fo_rows));
    }
    if (!ce_rows.empty()) {
      ASSERT_TRUE(ce_.Exec(ce_rows));
    }
    WriteConfig();
    Install();
  }
};

class BadRowsTest : public ErrorQueueTest {
 protected:
  void SetUp() override {
    ErrorQueueTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"baddata.duet"});
    ASSERT_TRUE(fo_.Exec(kBadDataFo));
    ASSERT_TRUE(ce_.Exec(kBadDataCe));
    ASSERT_TRUE(
        fo_.Exec("INSERT INTO Product (CODE, NAME, QTY, NOTE) VALUES "
                 "('P1', 'fine', 1, 'n1'), ('P2', 'negative', -2, 'n2'), "
                 "('P3', 'no note', 3, NULL);"));
    WriteConfig();
    Install();
    RunOnce(kExitRowErrors);
  }
};

// Issue 5, the error queue's life cycle: bad row -> item -> list and show ->
// fix -> retry -> synced and closed; discard closes an item and leaves the
// data as it is.
TEST_F(BadRowsTest, ListShowFixRetryAndDiscard) {
  EXPECT_EQ(state_.Value("SELECT state FROM duet_maps WHERE name = 'products'"), "live")
      << "a one-way map is live after its one initial-sync pass";
  json items = ErrorsJson({"list"});
  ASSERT_TRUE(items.is_array());
  ASSERT_EQ(items.size(), 2u) << items.dump(2);
  const json& negative = items[0];
  EXPECT_EQ(negative["map"], "products");
  EXPECT_EQ(negative["from"], "fo");
  EXPECT_EQ(negative["to"], "ce");
  EXPECT_EQ(negative["row_id"], Recid("P2"));
  EXPECT_EQ(negative["kind"], "rejected");
  EXPECT_THAT(negative["reason"].get<std::string>(), HasSubstr("CHECK"));
  EXPECT_EQ(negative["status"], "open");
  EXPECT_GE(negative["attempts"], 1);
  EXPECT_EQ(negative["source_row"]["QTY"], "-2") << "the row as read is kept";
  EXPECT_EQ(items[1]["row_id"], Recid("P3"));
  EXPECT_THAT(items[1]["reason"].get<std::string>(), HasSubstr("NOT NULL"));

  // Text output names the items and kinds; show has the row.
  RunResult list = Errors(kExitOk, {"list"});
  EXPECT_THAT(list.out, HasSubstr("products"));
  EXPECT_THAT(list.out, HasSubstr("rejected"));
  RunResult show = Errors(kExitOk, {"show", std::to_string(negative["id"].get<int64_t>())});
  EXPECT_THAT(show.out, HasSubstr("\"QTY\": \"-2\""));
  EXPECT_THAT(show.out, HasSubstr("CHECK"));

  // Filters.
  EXPECT_EQ(ErrorsJson({"list", "--kind", "conflict"}).size(), 0u);
  EXPECT_EQ(ErrorsJson({"list", "--map", "products", "--kind", "rejected"}).size(), 2u);
  EXPECT_EQ(ErrorsJson({"list", "--older-than", "1h"}).size(), 0u);
  EXPECT_EQ(ErrorsJson({"list", "--older-than", "0s"}).size(), 2u);

  // A retry before the data is fixed fails again and counts an attempt.
  std::string p2 = std::to_string(negative["id"].get<int64_t>());
  std::string p3 = std::to_string(items[1]["id"].get<int64_t>());
  RunResult again = Errors(kExitRowErrors, {"retry", p2});
  EXPECT_THAT(again.out, HasSubstr("still open after"));
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM product WHERE code = 'P2'"), 0);

  ASSERT_TRUE(fo_.Exec("UPDATE Product SET QTY = 2 WHERE CODE = 'P2';"));
  RunResult fixed = Errors(kExitOk, {"retry", p2});
  EXPECT_THAT(fixed.out, HasSubstr("item " + p2 + ": resolved"));
  EXPECT_EQ(ce_.Query("SELECT code, qty FROM product WHERE code = 'P2'"), (Rows{{"P2", "2"}}));

  RunResult discarded = Errors(kExitOk, {"discard", p3, "--by", "alice"});
  EXPECT_THAT(discarded.out, HasSubstr("discarded by alice"));
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM product WHERE code = 'P3'"), 0)
      << "discard leaves the data as it is";
  EXPECT_EQ(ErrorsJson({"list"}).size(), 0u);
  json all = ErrorsJson({"list", "--all"});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["status"], "resolved");
  EXPECT_EQ(all[1]["status"], "discarded");
  EXPECT_EQ(all[1]["closed_by"], "alice");

  // Closed items cannot be retried or discarded again; unknown ids are errors.
  Errors(kExitError, {"retry", p3});
  Errors(kExitError, {"discard", p3});
  RunResult unknown = Errors(kExitError, {"show", "999"});
  EXPECT_THAT(unknown.err, HasSubstr("no error item 999"));
  // A rejected row is not a conflict: resolve refuses it.
  ASSERT_TRUE(fo_.Exec("UPDATE Product SET QTY = -5 WHERE CODE = 'P1';"));
  RunOnce(kExitRowErrors);
  json open = ErrorsJson({"list"});
  ASSERT_EQ(open.size(), 1u);
  RunResult refused =
      Errors(kExitError, {"resolve", std::to_string(open[0]["id"].get<int64_t>()), "--take", "fo"});
  EXPECT_THAT(refused.err, HasSubstr("not a conflict"));
}

// Alert rules: errors within a window pause the map; a command gets the
// alert as JSON on its stdin; a bad rule is a configuration error.
TEST_F(BadRowsTest, AlertsPauseTheMapAndRunACommand) {
  WriteConfig({{"alerts",
                {{{"map", "products"}, {"when", "errors >= 2 within 15m"}, {"then", "pause"}},
                 {{"when", "open_errors >= 1 for 1s"}, {"then", "log"}},
                 {{"when", "open_errors > 0 within 1m"},
                  {"then", "run"},
                  {"command", "cat > alert.tmp && mv alert.tmp alert.json"}}}}});
  RunResult r = RunOnce(kExitRowErrors);
  EXPECT_THAT(r.err, HasSubstr("alert: map products: errors >= 2 within 15m"));
  EXPECT_THAT(r.err, HasSubstr("then pause"));
  EXPECT_EQ(state_.Value("SELECT by || ': ' || reason FROM duet_paused WHERE map = 'products'"),
            "duet: alert: errors >= 2 within 15m");
  ASSERT_TRUE(PollUntil([&] { return fs::exists(dir_ / "alert.json"); }));
  std::ifstream in(dir_ / "alert.json");
  json alert = json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(alert.is_discarded());
  EXPECT_EQ(alert["map"], "products");
  EXPECT_EQ(alert["when"], "open_errors > 0 within 1m");
  EXPECT_EQ(alert["value"], 2);

  for (const auto& [when, message] : std::vector<std::pair<std::string, std::string>>{
           {"latency > 5s for 2m", "unknown metric 'latency'"},
           {"p99_latency > 5 for 2m", "with a unit"},
           {"errors >= 10 during 15m", "'within' or 'for'"},
           {"errors >= 10 within soon", "a duration"}}) {
    WriteConfig({{"alerts", {{{"when", when}, {"then", "log"}}}}});
    RunResult bad = RunOnce(kExitError);
    EXPECT_THAT(bad.err, HasSubstr("alerts[0].when"));
    EXPECT_THAT(bad.err, HasSubstr(message)) << when;
  }
  WriteConfig(
      {{"alerts", {{{"map", "nothere"}, {"when", "errors > 1 within 1m"}, {"then", "log"}}}}});
  EXPECT_THAT(RunOnce(kExitError).err, HasSubstr("map 'nothere'"));
  WriteConfig({{"alerts", {{{"when", "errors > 1 within 1m"}, {"then", "email"}}}}});
  EXPECT_THAT(RunOnce(kExitError).err, HasSubstr("must be log, pause or run"));
}

// With `duet run` running, retry marks the items and the running process
// reconciles them; nothing waits for a restart.
TEST_F(BadRowsTest, RetryNextToARunningDuetRun) {
  int64_t attempts = state_.Int("SELECT min(attempts) FROM duet_errors WHERE status = 'open'");
  Process run = StartRun();
  // The runner retries open items once at its start; wait for that.
  ASSERT_TRUE(PollUntil([&] {
    return state_.Int("SELECT min(attempts) FROM duet_errors WHERE status = 'open'") > attempts;
  }));
  // Fix the rows behind the changelog's back, so that only the request can
  // bring them over.
  ASSERT_TRUE(
      fo_.Exec("DROP TRIGGER duet_Product_update;"
               "UPDATE Product SET QTY = 2 WHERE CODE = 'P2';"
               "UPDATE Product SET NOTE = 'n3' WHERE CODE = 'P3';"));
  RunResult requested = Errors(kExitOk, {"retry", "--all"});
  EXPECT_THAT(requested.out, HasSubstr("running duet process"));
  EXPECT_TRUE(PollUntil([&] { return OpenErrors() == 0; }));
  EXPECT_EQ(ce_.Query("SELECT code, qty, note FROM product ORDER BY code"),
            (Rows{{"P1", "1", "n1"}, {"P2", "2", "n2"}, {"P3", "3", "n3"}}));
  StopRun(run);
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_errors WHERE request IS NOT NULL"), 0)
      << "requests are cleared once handled";
}

class ConflictQueueTest : public ErrorQueueTest {
 protected:
  void SetUp() override {
    ErrorQueueTest::SetUp();
    if (HasFatalFailure()) return;
    UseConflictMaps(
        "INSERT INTO ConfManual (CODE, A, B) VALUES ('R1', 'a0', 'b0'), ('R2', 'a0', 'b0');");
    if (HasFatalFailure()) return;
    RunOnce();
  }
};

// A conflict under `manual` carries both sides' values and the base, and
// `resolve --take` makes the chosen side's values win on both sides.
TEST_F(ConflictQueueTest, ConflictShowsBothValuesAndResolveTakesASide) {
  ASSERT_TRUE(fo_.Exec("UPDATE ConfManual SET A = 'fo-edit' WHERE CODE IN ('R1', 'R2');"));
  ASSERT_TRUE(ce_.Exec("UPDATE conf_manual SET a = 'ce-edit' WHERE code IN ('R1', 'R2');"));
  RunOnce(kExitRowErrors);
  json items = ErrorsJson({"list", "--kind", "conflict"});
  ASSERT_EQ(items.size(), 2u) << items.dump(2);
  const json& item = items[0];
  EXPECT_FALSE(item["other_id"].is_null());
  EXPECT_EQ(item["other_row"]["a"], item["from"] == "fo" ? "ce-edit" : "fo-edit");
  const json& fields = item["detail"]["fields"];
  ASSERT_TRUE(fields.is_array()) << item.dump(2);
  bool found = false;
  for (const json& f : fields) {
    if (f["fo"] == "fo-edit" && f["ce"] == "ce-edit" && f["base"] == "a0") found = true;
  }
  EXPECT_TRUE(found) << "each side's value and the base: " << fields.dump(2);

  auto id_of = [&](const std::string& code) -> std::string {
    for (const json& i : items) {
      if (i["source_row"].contains("CODE") ? i["source_row"]["CODE"] == code
                                           : i["source_row"]["code"] == code) {
        return std::to_string(i["id"].get<int64_t>());
      }
    }
    return "?";
  };
  Errors(kExitOk, {"resolve", id_of("R1"), "--take", "ce"});
  Errors(kExitOk, {"resolve", id_of("R2"), "--take", "fo"});
  EXPECT_EQ(fo_.Query("SELECT CODE, A FROM ConfManual ORDER BY CODE"),
            (Rows{{"R1", "ce-edit"}, {"R2", "fo-edit"}}));
  EXPECT_EQ(ce_.Query("SELECT code, a FROM conf_manual ORDER BY code"),
            (Rows{{"R1", "ce-edit"}, {"R2", "fo-edit"}}));
  EXPECT_EQ(ErrorsJson({"list"}).size(), 0u);
  RunOnce();  // and it stays settled
  EXPECT_EQ(OpenErrors(), 0);
  Errors(kExitError, {"resolve", id_of("R1"), "--take", "crm"});
}

// Pause and resume (conflicts.duet: four two-way maps over tables with
// rows R1..R4, A and B).
class PauseTest : public ErrorQueueTest {
 protected:
  void SetUp() override {
    ErrorQueueTest::SetUp();
    if (HasFatalFailure()) return;
    UseConflictMaps(
        "INSERT INTO ConfFo (CODE, A, B) VALUES ('R1', 'a0', 'b0');"
        "INSERT INTO ConfCe (CODE, A, B) VALUES ('R1', 'a0', 'b0');");
    if (HasFatalFailure()) return;
    RunOnce();
  }
  json MapStatus(const std::string& map) {
    RunResult r = DuetExpect(kExitOk, "status", {"--json"});
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    for (const json& m : j["maps"]) {
      if (m["name"] == map) return m;
    }
    ADD_FAILURE() << "no map " << map << " in " << r.out;
    return json();
  }
  // Returns once a `duet run` started in the background is past its start
  // (it holds the state store's lock and syncs): a change of another map
  // arrives.
  void WaitUntilSyncing() {
    static int n = 0;
    std::string value = "warm-" + std::to_string(++n);
    ASSERT_TRUE(fo_.Exec("UPDATE ConfCe SET B = '" + value + "';"));
    ASSERT_TRUE(PollUntil([&] { return ce_.Value("SELECT b FROM conf_ce") == value; }));
  }
  // Everything the background runs wrote on stderr so far.
  std::string RunLogs() {
    std::string all;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".err") {
        std::ifstream in(entry.path());
        all += std::string(std::istreambuf_iterator<char>(in), {});
      }
    }
    return all;
  }
};

// While paused, changes on both sides are kept (the changelog is the
// queue) and nothing of the map is written; resume reconciles them, with
// different fields edited on the two sides both surviving.
TEST_F(PauseTest, ChangesOnBothSidesWaitAndArriveOnResume) {
  RunResult paused = DuetExpect(kExitOk, "pause", {"conf_fo", "--reason", "drift check"});
  EXPECT_THAT(paused.out, HasSubstr("map conf_fo paused"));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'fo-edit'; UPDATE ConfCe SET A = 'other-map';"));
  ASSERT_TRUE(ce_.Exec("UPDATE conf_fo SET b = 'ce-edit';"));
  RunResult once = RunOnce();
  EXPECT_THAT(once.err, HasSubstr("map conf_fo is paused"));
  EXPECT_EQ(ce_.Query("SELECT a FROM conf_ce"), (Rows{{"other-map"}})) << "other maps sync";
  EXPECT_EQ(ce_.Query("SELECT a, b FROM conf_fo"), (Rows{{"a0", "ce-edit"}}));
  EXPECT_EQ(fo_.Query("SELECT A, B FROM ConfFo"), (Rows{{"fo-edit", "b0"}}));
  json status = MapStatus("conf_fo");
  EXPECT_EQ(status["paused"]["by"].is_string(), true) << status.dump();
  EXPECT_EQ(status["paused"]["reason"], "drift check");
  EXPECT_EQ(status["backlog"]["fo"], 1);
  EXPECT_EQ(status["backlog"]["ce"], 1);
  RunResult text = DuetExpect(kExitOk, "status");
  EXPECT_THAT(text.out, HasSubstr("paused"));

  RunOnce();  // still paused: the changes stay in the changelogs
  EXPECT_EQ(MapStatus("conf_fo")["backlog"]["fo"], 1);

  DuetExpect(kExitOk, "resume", {"conf_fo"});
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT a, b FROM conf_fo"), (Rows{{"fo-edit", "ce-edit"}}));
  EXPECT_EQ(fo_.Query("SELECT A, B FROM ConfFo"), (Rows{{"fo-edit", "ce-edit"}}));
  EXPECT_TRUE(MapStatus("conf_fo")["paused"].is_null());

  RunResult unknown = DuetExpect(kExitError, "pause", {"no_such_map"});
  EXPECT_THAT(unknown.err, HasSubstr("no map 'no_such_map'"));
  RunResult not_paused = DuetExpect(kExitError, "resume", {"conf_fo"});
  EXPECT_THAT(not_paused.err, HasSubstr("is not paused"));
}

// A running `duet run` sees a pause and a resume made by another process.
TEST_F(PauseTest, ARunningDuetRunHonoursPauseAndResume) {
  Process run = StartRun();
  DuetExpect(kExitOk, "pause", {"conf_fo"});
  ASSERT_TRUE(PollUntil([&] { return RunLogs().find("map conf_fo paused") != std::string::npos; }))
      << RunLogs();
  // Once the runner has seen the pause, a change of the paused map written
  // before a change of another map stays behind while the other arrives.
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'held';"));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfCe SET A = 'flows';"));
  ASSERT_TRUE(PollUntil([&] { return ce_.Value("SELECT a FROM conf_ce") == "flows"; }));
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo"), "a0");
  DuetExpect(kExitOk, "resume", {"conf_fo"});
  EXPECT_TRUE(PollUntil([&] { return ce_.Value("SELECT a FROM conf_fo") == "held"; }));
  EXPECT_THAT(RunLogs(), HasSubstr("map conf_fo resumed"));
  StopRun(run);
}

// A database an application keeps locked for longer than lock_timeout_ms
// is a transient failure: duet says so, waits, tries again, and the change
// arrives once the lock is gone; nothing goes to the error queue.
TEST_F(PauseTest, ALockedDatabaseIsRetriedNotQueued) {
  WriteConfig({{"lock_timeout_ms", 50}});
  LockHolder holder;
  ASSERT_TRUE(holder.Hold(dir_ / "ce.db", dir_));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'after-lock';"));
  Process once;
  ASSERT_TRUE(once.Start({GetTools().duet, "run", "-c", config().string(), "--once"}, dir_,
                         dir_ / "once.out", dir_ / "once.err"));
  auto once_log = [&] {
    std::ifstream in(dir_ / "once.err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_TRUE(PollUntil([&] { return once_log().find("transient failure") != std::string::npos; }))
      << once_log();
  holder.Release();
  RunResult r = once.Wait(std::chrono::minutes(2));
  EXPECT_EQ(r.exit_code, kExitOk) << once_log();
  EXPECT_THAT(once_log(), HasSubstr("retrying in"));
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo"), "after-lock");
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_errors"), 0);
}

// Drift made behind duet's back (capture triggers dropped, writes, triggers
// back with `duet install`), repaired by `duet resync` (conflicts.duet's
// conf_fo map: ConfFo on fo, conf_fo on ce).
// Latency per map and direction: every reconciled change counts once, and
// each window reports its percentiles. (Their values are not asserted here:
// no test asserts on time; sync_units_test pins the quantiles of known
// latencies.)
TEST_F(PauseTest, StatusShowsLatencyPerMapAndDirection) {
  ASSERT_TRUE(
      fo_.Exec("UPDATE ConfFo SET A = 'one'; UPDATE ConfFo SET A = 'two';"
               "UPDATE ConfCe SET A = 'three';"));
  ASSERT_TRUE(ce_.Exec("UPDATE conf_fo SET b = 'four';"));
  RunOnce();
  json status = MapStatus("conf_fo");
  const json& to_ce = status["latency"]["fo->ce"]["15m"];
  ASSERT_TRUE(to_ce.is_object()) << status.dump(2);
  EXPECT_EQ(to_ce["changes"], 2) << "both updates of ConfFo, once each";
  for (const char* quantile : {"p50_ms", "p95_ms", "p99_ms"}) {
    EXPECT_TRUE(to_ce[quantile].is_number()) << quantile << " in " << status.dump(2);
  }
  EXPECT_EQ(status["latency"]["ce->fo"]["15m"]["changes"], 1);
  EXPECT_EQ(MapStatus("conf_ce")["latency"]["fo->ce"]["15m"]["changes"], 1);
  EXPECT_TRUE(MapStatus("conf_newest")["latency"].empty()) << "nothing changed there";
  RunResult text = DuetExpect(kExitOk, "status");
  EXPECT_THAT(text.out, HasSubstr("latency, last 5 minutes"));
}

// `duet run --metrics-port 0`: Prometheus text on /metrics and /healthz,
// fetched with Python's urllib as a scraper would.
TEST_F(PauseTest, MetricsAndHealthOverHttp) {
  Process run;
  ASSERT_TRUE(run.Start({GetTools().duet, "run", "-c", config().string(), "--metrics-port", "0"},
                        dir_, dir_ / "metrics-run.out", dir_ / "metrics-run.err"));
  std::string port;
  ASSERT_TRUE(PollUntil([&] {
    std::string log = RunLogs();
    size_t at = log.find("http://127.0.0.1:");
    if (at == std::string::npos) return false;
    size_t begin = at + std::string("http://127.0.0.1:").size();
    port = log.substr(begin, log.find('/', begin) - begin);
    return true;
  })) << RunLogs();
  auto get = [&](const std::string& path) {
    RunResult r = RunProcess({"/usr/bin/env", "python3", "-c",
                              "import sys, urllib.request\n"
                              "print(urllib.request.urlopen(sys.argv[1]).read().decode(), end='')",
                              "http://127.0.0.1:" + port + path},
                             dir_, dir_ / ".scratch", "", {}, std::chrono::seconds(30));
    return r.exit_code == 0 ? r.out : "FAILED: " + r.err;
  };
  EXPECT_EQ(get("/healthz"), "ok\n");
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'measured';"));
  std::string text;
  EXPECT_TRUE(PollUntil([&] {
    text = get("/metrics");
    return text.find("duet_latency_seconds_count{map=\"conf_fo\",direction=\"fo->ce\"} 1") !=
           std::string::npos;
  })) << text;
  EXPECT_THAT(text, HasSubstr("# TYPE duet_latency_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("duet_up 1"));
  EXPECT_THAT(text, HasSubstr("duet_map_linked_rows{map=\"conf_fo\"} 1"));
  EXPECT_THAT(text, HasSubstr("duet_map_backlog{map=\"conf_fo\",system=\"ce\"} 0"));
  EXPECT_THAT(text, HasSubstr("le=\"+Inf\"} 1"));
  StopRun(run);
}

// A bundle upgrade under load: `duet reload` makes the running `duet run`
// load the new bundle between batches; no change made before, during or
// after is lost, the map the upgrade changed is resynced, and the new
// bundle's rules apply from then on.
TEST_F(PauseTest, BundleReloadUnderLoadLosesNoChange) {
  Process run = StartRun();
  WaitUntilSyncing();
  auto insert = [&](int from, int to) {
    std::string sql;
    for (int i = from; i < to; ++i) {
      sql += "INSERT INTO ConfFo (CODE, A, B) VALUES ('L" + std::to_string(i) + "', 'a" +
             std::to_string(i) + "', 'b');";
    }
    ASSERT_TRUE(fo_.Exec(sql));
  };
  insert(0, 20);
  // The new bundle: conf_fo no longer maps B <-> b (a field removed: the
  // upgrade needs a resync of conf_fo).
  std::ifstream in(fs::path(GetTools().maps_dir) / "conflicts.duet");
  std::string source(std::istreambuf_iterator<char>(in), {});
  size_t at = source.find("  B <-> b;\n");
  ASSERT_NE(at, std::string::npos);
  source.erase(at, std::string("  B <-> b;\n").size());
  std::ofstream(dir_ / "v2.duet") << source;
  RunResult compiled = RunProcess({GetTools().duetc, "compile", (dir_ / "v2.duet").string(), "-o",
                                   (dir_ / "maps.duetb").string()},
                                  dir_, dir_ / ".scratch");
  ASSERT_EQ(compiled.exit_code, kExitOk) << compiled.err;
  insert(20, 30);
  RunResult asked = DuetExpect(kExitOk, "reload");
  EXPECT_THAT(asked.out, HasSubstr("asked duet run"));
  insert(30, 40);
  ASSERT_TRUE(PollUntil([&] { return RunLogs().find("reloaded the bundle") != std::string::npos; }))
      << RunLogs();
  EXPECT_THAT(RunLogs(), HasSubstr("resyncing conf_fo"));
  insert(40, 50);
  // B no longer flows; A still does (the sentinel that the new bundle ran).
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET B = 'not-synced', A = 'after' WHERE CODE = 'R1';"));
  EXPECT_TRUE(PollUntil([&] {
    return ce_.Int("SELECT count(*) FROM conf_fo") == 51 &&
           ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'") == "after" &&
           state_.Int("SELECT count(*) FROM duet_resync") == 0;
  })) << ce_.Int("SELECT count(*) FROM conf_fo");
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM conf_fo f WHERE a = 'a' || substr(code, 2)"), 50)
      << "every row inserted before, during and after the reload arrived once";
  EXPECT_EQ(ce_.Value("SELECT b FROM conf_fo WHERE code = 'R1'"), "b0");
  StopRun(run);

  // A breaking upgrade (a key changed) is refused; the old bundle runs on.
  Process again = StartRun();
  WaitUntilSyncing();
  size_t key = source.find(
      "table ce.conf_fo     { code string(10) not null; a string(20); b string(20); key (code); }");
  ASSERT_NE(key, std::string::npos);
  source.replace(key,
                 std::string("table ce.conf_fo     { code string(10) not null; a string(20); b "
                             "string(20); key (code); }")
                     .size(),
                 "table ce.conf_fo     { code string(10) not null; a string(20); b string(20); key "
                 "(code, a); }");
  std::ofstream(dir_ / "v3.duet") << source;
  compiled = RunProcess({GetTools().duetc, "compile", (dir_ / "v3.duet").string(), "-o",
                         (dir_ / "maps.duetb").string()},
                        dir_, dir_ / ".scratch");
  ASSERT_EQ(compiled.exit_code, kExitOk) << compiled.err;
  DuetExpect(kExitOk, "reload");
  EXPECT_TRUE(PollUntil([&] { return RunLogs().find("reload refused") != std::string::npos; }));
  EXPECT_THAT(RunLogs(), HasSubstr("breaking"));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'still-syncing' WHERE CODE = 'R1';"));
  EXPECT_TRUE(PollUntil(
      [&] { return ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'") == "still-syncing"; }));
  StopRun(again);
}

// A synced table whose columns change while duet runs stops that map with
// a clear reason; the other maps go on, and a resume after the repair
// brings the map's changes over.
TEST_F(PauseTest, ATableChangedUnderARunningDuetStopsOnlyItsMap) {
  Process run = StartRun();
  WaitUntilSyncing();  // past its start-up checks
  ASSERT_TRUE(ce_.Exec("ALTER TABLE conf_fo DROP COLUMN b;"));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'held'; UPDATE ConfCe SET A = 'flows';"));
  ASSERT_TRUE(PollUntil([&] { return RunLogs().find("map conf_fo stopped") != std::string::npos; }))
      << RunLogs();
  EXPECT_THAT(RunLogs(), HasSubstr("has no column 'b'"));
  EXPECT_TRUE(PollUntil([&] { return ce_.Value("SELECT a FROM conf_ce") == "flows"; }))
      << "the other maps go on";
  EXPECT_TRUE(run.running()) << "no crash";
  json status = MapStatus("conf_fo");
  EXPECT_EQ(status["paused"]["by"], "duet") << status.dump();
  EXPECT_THAT(status["paused"]["reason"].get<std::string>(), HasSubstr("schema changed"));

  // The column comes back empty: a plain resume would carry its nulls to
  // fo as edits (issue 13), so the operator must choose.
  ASSERT_TRUE(ce_.Exec("ALTER TABLE conf_fo ADD COLUMN b TEXT;"));
  Rows fo_b = fo_.Query("SELECT CODE, B FROM ConfFo ORDER BY CODE");
  RunResult plain = Duet("resume", {"conf_fo"});
  EXPECT_EQ(plain.exit_code, kExitError) << plain.out;
  EXPECT_THAT(plain.err, HasSubstr("--from SYSTEM"));
  EXPECT_THAT(plain.err, HasSubstr("--as-is"));
  DuetExpect(kExitOk, "resume", {"conf_fo", "--from", "fo"});
  EXPECT_TRUE(PollUntil([&] { return ce_.Value("SELECT a FROM conf_fo") == "held"; }));
  EXPECT_TRUE(PollUntil([&] {
    return ce_.Query("SELECT code, b FROM conf_fo ORDER BY code") == fo_b;
  })) << FormatRows(ce_.Query("SELECT code, b FROM conf_fo ORDER BY code"));
  EXPECT_EQ(fo_.Query("SELECT CODE, B FROM ConfFo ORDER BY CODE"), fo_b) << "fo lost its values";
  StopRun(run);

  // A run that starts on a changed table refuses before it syncs anything.
  ASSERT_TRUE(ce_.Exec("ALTER TABLE conf_fo DROP COLUMN b;"));
  RunResult once = RunOnce(kExitError);
  EXPECT_THAT(once.err, HasSubstr("has no column 'b'"));
}

// Issue 4, item 7, for rows matched by key: the initial sync's rule (the
// seeding side wins) is for rows as they were when it began; an edit made
// since is not lost. A map paused before its first run records where its
// initial sync begins and stops there, which makes "since" testable.
class InitialEditsTest : public ErrorQueueTest {
 protected:
  void SetUp() override {
    ErrorQueueTest::SetUp();
    if (HasFatalFailure()) return;
    UseConflictMaps(
        "INSERT INTO ConfFo (CODE, A, B) VALUES ('R1', 'fo1', 'b'), ('R2', 'fo2', 'b'), "
        "('R3', 'fo3', 'b');",
        "INSERT INTO conf_fo (code, a, b) VALUES ('R1', 'ce1', 'b'), ('R2', 'ce2', 'b'), "
        "('R3', 'ce3', 'b');");
  }
};

TEST_F(InitialEditsTest, EditsMadeSinceTheInitialSyncBeganAreNotLost) {
  DuetExpect(kExitOk, "pause", {"conf_fo"});
  RunOnce();
  EXPECT_EQ(state_.Value("SELECT state FROM duet_maps WHERE name = 'conf_fo'"), "initial");
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'"), "ce1") << "nothing copied yet";
  ASSERT_TRUE(
      ce_.Exec("UPDATE conf_fo SET a = 'ce1-edited' WHERE code = 'R1';"
               "UPDATE conf_fo SET a = 'ce3-edited' WHERE code = 'R3';"));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfFo SET A = 'fo3-edited' WHERE CODE = 'R3';"));
  DuetExpect(kExitOk, "resume", {"conf_fo"});
  RunOnce();
  // R1: edited on ce only since the start: ce's edit wins. R2: nobody
  // edited it: fo, the seeding side, wins. R3: edited on both: the map's
  // rule (master fo).
  Rows expected = {{"R1", "ce1-edited"}, {"R2", "fo2"}, {"R3", "fo3-edited"}};
  EXPECT_EQ(fo_.Query("SELECT CODE, A FROM ConfFo ORDER BY CODE"), expected);
  EXPECT_EQ(ce_.Query("SELECT code, a FROM conf_fo ORDER BY code"), expected);
}

class ResyncTest : public PauseTest {
 protected:
  void SetUp() override {
    PauseTest::SetUp();
    if (HasFatalFailure()) return;
    std::string rows;
    for (int i = 2; i <= kRows; ++i) {
      rows += "('R" + std::to_string(i) + "', 'a0', 'b0')" + (i < kRows ? ", " : ";");
    }
    ASSERT_TRUE(fo_.Exec("INSERT INTO ConfFo (CODE, A, B) VALUES " + rows));
    RunOnce();
    ASSERT_EQ(ce_.Int("SELECT count(*) FROM conf_fo"), kRows);
  }
  // Edits both sides without capture: duet cannot see them as changes.
  void MakeDrift() {
    ASSERT_TRUE(
        ce_.Exec("DROP TRIGGER duet_conf_fo_insert; DROP TRIGGER duet_conf_fo_update;"
                 "DROP TRIGGER duet_conf_fo_delete;"
                 "UPDATE conf_fo SET a = 'ce-drift' WHERE code = 'R1';"
                 "DELETE FROM conf_fo WHERE code = 'R2';"
                 "INSERT INTO conf_fo (code, a, b) VALUES ('X1', 'only-ce', 'b0');"));
    ASSERT_TRUE(
        fo_.Exec("DROP TRIGGER duet_ConfFo_update;"
                 "UPDATE ConfFo SET A = 'fo-drift' WHERE CODE = 'R3';"));
    Install();
    RunOnce();  // nothing to see: the drift was never captured
    ASSERT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'"), "ce-drift");
  }
  void ExpectRepaired() {
    EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'"), "a0") << "fo's value wins";
    EXPECT_EQ(fo_.Value("SELECT A FROM ConfFo WHERE CODE = 'R1'"), "a0");
    EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R2'"), "a0") << "the lost row is back";
    EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R3'"), "fo-drift");
    EXPECT_EQ(fo_.Value("SELECT A FROM ConfFo WHERE CODE = 'X1'"), "only-ce")
        << "a row without a partner gets one, as in an initial sync";
    EXPECT_EQ(ce_.Int("SELECT count(*) FROM conf_fo"), kRows + extra_ + 1);
    EXPECT_EQ(fo_.Int("SELECT count(*) FROM ConfFo"), kRows + extra_ + 1);
    EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_resync"), 0) << "the resync is over";
    EXPECT_EQ(OpenErrors(), 0);
  }
  static constexpr int kRows = 40;
  static constexpr int kMore = 3000;
  int extra_ = 0;  // rows added by a test
};

TEST_F(ResyncTest, DriftFindsWhatChangedBehindDuetsBackAndResyncRepairsIt) {
  MakeDrift();
  RunResult found = DuetExpect(kExitRowErrors, "drift", {"conf_fo", "--json"});
  json report = json::parse(found.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(report.is_discarded()) << found.out;
  EXPECT_EQ(report["drift"], true);
  EXPECT_EQ(report["pairs_compared"], kRows - 1) << "R2's ce row is gone";
  EXPECT_EQ(report["differing_pairs"]["count"], 2) << report.dump(2);
  std::set<std::string> columns;
  for (const json& pair : report["differing_pairs"]["listed"]) {
    for (const json& f : pair["fields"]) {
      columns.insert(f["column"].get<std::string>() + "=" + f["current"].get<std::string>());
    }
  }
  EXPECT_TRUE(columns.count("ce.conf_fo.a=ce-drift")) << report.dump(2);
  EXPECT_TRUE(columns.count("fo.ConfFo.A=fo-drift")) << report.dump(2);
  EXPECT_EQ(report["without_partner"]["ce"]["count"], 1);
  EXPECT_EQ(report["without_partner"]["fo"]["count"], 0);
  EXPECT_EQ(report["links_to_vanished_rows"]["ce"]["count"], 1);
  EXPECT_EQ(report["links_to_vanished_rows"]["fo"]["count"], 0);
  RunResult text = DuetExpect(kExitRowErrors, "drift", {"conf_fo"});
  EXPECT_THAT(text.out, HasSubstr("pairs whose mapped fields disagree: 2"));
  EXPECT_THAT(text.out, HasSubstr("duet resync conf_fo"));
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'"), "ce-drift")
      << "drift writes nothing";

  RunResult r = DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo"});
  EXPECT_THAT(r.out, HasSubstr("resync from fo done"));
  ExpectRepaired();
  RunResult clean = DuetExpect(kExitOk, "drift", {"conf_fo"});
  EXPECT_THAT(clean.out, HasSubstr("no drift"));
}

TEST_F(ResyncTest, ResyncRepairsDriftWithTheChosenSideWinning) {
  MakeDrift();
  RunResult r = DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo"});
  // The 40 pairs and X1 with its new partner; writes: R1, R2 (back), R3 on
  // ce and X1's partner on fo.
  EXPECT_THAT(r.out, HasSubstr("resync from fo done: 41 pair(s) reconciled, 4 row write(s)"));
  ExpectRepaired();
  RunResult bad = DuetExpect(kExitError, "resync", {"conf_manual"});
  EXPECT_THAT(bad.err, HasSubstr("--from")) << "manual has no side to default to";
}

// Some pairs only: --where over the from side's table, or --keys from a file.
TEST_F(ResyncTest, ResyncOfSomePairsOnly) {
  MakeDrift();
  RunResult one =
      DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo", "--where", "t.CODE = 'R1'"});
  EXPECT_THAT(one.out, HasSubstr("done: 1 pair(s) reconciled, 1 row write(s)"));
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R1'"), "a0") << "R1 was selected";
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R3'"), "a0") << "R3 was not";
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM conf_fo WHERE code = 'R2'"), 0);
  std::ofstream(dir_ / "keys.txt") << "R3\nR2\n";
  RunResult two = DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo", "--keys", "keys.txt"});
  EXPECT_THAT(two.out, HasSubstr("done: 2 pair(s) reconciled, 2 row write(s)"));
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R3'"), "fo-drift");
  EXPECT_EQ(ce_.Value("SELECT a FROM conf_fo WHERE code = 'R2'"), "a0") << "R2 came back";
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM ConfFo WHERE CODE = 'X1'"), 0)
      << "a lone row on the other side is not part of a subset resync";
  RunResult bad =
      DuetExpect(kExitError, "resync", {"conf_fo", "--from", "fo", "--where", "NOPE ="});
  EXPECT_THAT(bad.err, HasSubstr("the condition 'NOPE ='"));
  std::ofstream(dir_ / "bad-keys.txt") << "R1\textra\n";
  RunResult bad_keys =
      DuetExpect(kExitError, "resync", {"conf_fo", "--from", "fo", "--keys", "bad-keys.txt"});
  EXPECT_THAT(bad_keys.err, HasSubstr("line 1: 2 value(s)"));
}

// Issue 12: a map of 3 pairs was reported as "9 pair(s) reconciled". The
// resync reads both sides, so the run met every pair twice, and the run also
// reconciled the changes pending before it (of this map and others). Each
// pair counts once, whatever else the run did.
TEST_F(ResyncTest, ResyncCountsEachPairOnce) {
  ASSERT_TRUE(
      fo_.Exec("UPDATE ConfFo SET B = 'pending' WHERE CODE = 'R1';"
               "UPDATE ConfCe SET B = 'pending';"));
  RunResult r = DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo"});
  EXPECT_THAT(r.out, HasSubstr("resync from fo done: 40 pair(s) reconciled"));
  EXPECT_EQ(ce_.Value("SELECT b FROM conf_fo WHERE code = 'R1'"), "pending");
  RunResult j = DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo", "--json"});
  json report = json::parse(j.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(report.is_discarded()) << j.out;
  EXPECT_EQ(report["pairs"], kRows) << j.out;
  EXPECT_EQ(report["writes"], 0) << "nothing differs any more";
}

// Next to a running `duet run`, a page a cycle; live changes keep flowing.
TEST_F(ResyncTest, ResyncNextToARunningDuetRun) {
  WriteConfig({{"initial_batch_size", 3}});
  MakeDrift();
  Process run = StartRun();
  WaitUntilSyncing();
  RunResult r = DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo"});
  EXPECT_THAT(r.out, HasSubstr("running duet process"));
  ASSERT_TRUE(fo_.Exec("UPDATE ConfCe SET A = 'live' WHERE CODE = 'R1';"));
  EXPECT_TRUE(PollUntil([&] { return state_.Int("SELECT count(*) FROM duet_resync") == 0; }));
  EXPECT_TRUE(PollUntil([&] { return ce_.Value("SELECT a FROM conf_ce") == "live"; }));
  StopRun(run);
  ExpectRepaired();
}

// A resync killed with SIGKILL resumes where it stopped. Enough rows that
// a page at a time takes a while: the kill lands in the middle.
TEST_F(ResyncTest, KilledResyncResumes) {
  std::string rows;
  for (int i = 0; i < kMore; ++i) {
    rows += "('M" + std::to_string(i) + "', 'a0', 'b0')" + (i + 1 < kMore ? ", " : ";");
  }
  ASSERT_TRUE(fo_.Exec("INSERT INTO ConfFo (CODE, A, B) VALUES " + rows));
  RunOnce();
  extra_ = kMore;
  WriteConfig({{"initial_batch_size", 1}});
  MakeDrift();
  Process run = StartRun();
  WaitUntilSyncing();
  DuetExpect(kExitOk, "resync", {"conf_fo", "--from", "fo"});
  ASSERT_TRUE(
      PollUntil([&] { return state_.Int("SELECT coalesce(max(done), 0) FROM duet_resync") > 0; }));
  run.Signal(SIGKILL);
  run.Wait(std::chrono::minutes(1));
  ASSERT_EQ(state_.Int("SELECT count(*) FROM duet_resync"), 1)
      << "killed in the middle of the resync";
  int64_t done = state_.Int("SELECT done FROM duet_resync");
  EXPECT_GT(done, 0);
  RunOnce();
  ExpectRepaired();
}

}  // namespace
}  // namespace duet::e2e
