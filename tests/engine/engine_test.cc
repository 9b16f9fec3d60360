// The sync engine in-process (runtime/engine/sync_engine.h), through its
// seams only: a bundle compiled and JIT-loaded in this process, endpoints
// and a state store opened by URL, and a ManualClock for the wall clock, so
// that what depends on time (lookup_timeout_seconds, the last sync) is
// driven by setting the clock instead of waiting for it. The sqlite3 API
// plays the applications.
#include "runtime/engine/sync_engine.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compiler/bundler/bundler.h"
#include "compiler/frontend/frontend.h"
#include "runtime/base/clock.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/loaded_bundle.h"
#include "runtime/endpoint/open_endpoint.h"
#include "runtime/jit/engine.h"
#include "runtime/state/open_state_store.h"
#include "tests/e2e/schemas.h"

namespace duet::engine {
namespace {

namespace fs = std::filesystem;

// 2026-12-05T00:00:00Z.
constexpr double kStart = 1796428800;

// A SQLite database as an application has it open.
class Application {
 public:
  explicit Application(const fs::path& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Application() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  // The first column of the first row, as text; "" when there is none.
  std::string Query(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("duet-engine-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Application(dir_ / "fo.db").Exec(std::string(e2e::kCustomersFo));
    Application(dir_ / "ce.db").Exec(std::string(e2e::kCustomersCe));
    LoadBundle(std::string(DUET_SOURCE_DIR) + "/tests/e2e/maps/customers.duet");
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }

  void LoadBundle(const std::string& map_file) {
    std::vector<std::string> paths = {map_file};
    std::unique_ptr<frontend::Result> checked = frontend::CheckPaths(paths, frontend::Options{});
    ASSERT_TRUE(checked && checked->ok() && checked->checked) << "the map does not check";
    Expected<bundle::Contents> contents = bundler::Build(*checked, bundler::Options{});
    ASSERT_TRUE(contents.ok()) << contents.status().message();
    Expected<std::unique_ptr<jit::Engine>> jit = jit::Engine::Create(jit::EngineOptions{});
    ASSERT_TRUE(jit.ok()) << jit.status().message();
    jit_ = std::move(*jit);
    Expected<bundle::Verified> verified = bundle::Parse(bundle::Serialize(*contents), {});
    ASSERT_TRUE(verified.ok()) << verified.status().message();
    Expected<std::unique_ptr<bundle::LoadedBundle>> loaded =
        bundle::LoadedBundle::FromVerified(*jit_, std::move(*verified));
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    bundle_ = std::move(*loaded);
  }

  // Installs capture and a new state store, as `duet install` does, and
  // makes the engine on them with `config`.
  void Install(Config config) {
    std::string state_url = "sqlite:" + (dir_ / "state.db").string();
    Expected<std::unique_ptr<state::StateStore>> state =
        state::OpenStateStore(state_url, state::StateStore::OpenMode::kCreate);
    ASSERT_TRUE(state.ok()) << state.status().message();
    ASSERT_TRUE((*state)->AcquireLease("engine_test").ok());
    std::map<std::string, std::unique_ptr<endpoint::Endpoint>> endpoints;
    auto captured = SyncEngine::CapturedTables(bundle_->manifest());
    for (const char* system : {"fo", "ce"}) {
      std::string url = "sqlite:" + (dir_ / (std::string(system) + ".db")).string();
      Expected<std::unique_ptr<endpoint::Endpoint>> ep =
          endpoint::OpenEndpoint(url, system, bundle_->manifest());
      ASSERT_TRUE(ep.ok()) << ep.status().message();
      ASSERT_TRUE((*ep)->InstallCapture(captured[system]).ok());
      ASSERT_TRUE((*ep)->BindState((*state)->id()).ok());
      endpoints[system] = std::move(*ep);
    }
    config.state = state_url;
    Expected<std::unique_ptr<SyncEngine>> engine =
        SyncEngine::Create(config, *bundle_, std::move(endpoints), std::move(*state), clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    engine_ = std::move(*engine);
    ASSERT_TRUE(engine_->CheckReady().ok());
  }

  RunCounts RunOnce() {
    Expected<RunCounts> counts = engine_->RunOnce(nullptr);
    EXPECT_TRUE(counts.ok()) << counts.status().message();
    return counts.ok() ? *counts : RunCounts{};
  }

  nlohmann::json MapStatus(const std::string& map) {
    Expected<std::string> text = engine_->StatusJson();
    EXPECT_TRUE(text.ok()) << text.status().message();
    if (!text.ok()) return {};
    nlohmann::json status = nlohmann::json::parse(*text);
    for (const nlohmann::json& m : status["maps"]) {
      if (m["name"] == map) return m;
    }
    ADD_FAILURE() << "no map " << map << " in the status " << *text;
    return {};
  }

  fs::path dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<jit::Engine> jit_;
  std::unique_ptr<bundle::LoadedBundle> bundle_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(EngineTest, AChangeArrivesAndTheLastSyncIsTheEnginesClock) {
  Install(Config{});
  RunOnce();  // the initial sync of empty tables
  Application fo(dir_ / "fo.db");
  Application ce(dir_ / "ce.db");
  fo.Exec(
      "INSERT INTO Customer (ACCOUNT, NAME, PARTYTYPE) VALUES ('C-1', 'Contoso', "
      "'Organization');");
  clock_.Set(kStart + 90.25);
  RunCounts counts = RunOnce();
  EXPECT_EQ(counts.writes, 1);
  EXPECT_EQ(ce.Query("SELECT name FROM account WHERE accountnumber = 'C-1'"), "Contoso");
  EXPECT_EQ(MapStatus("customers")["last_sync"], state::IsoAt(kStart + 90.25));
}

// A change whose lookup finds no row waits; it becomes a missing_reference
// item once lookup_timeout_seconds have passed on the engine's clock, and
// not a moment before.
TEST_F(EngineTest, AWaitingChangeBecomesAnItemWhenItsTimeoutPassesOnTheClock) {
  Config config;
  config.lookup_timeout_seconds = 60;
  Install(config);
  RunOnce();
  Application fo(dir_ / "fo.db");
  fo.Exec(
      "INSERT INTO Customer (ACCOUNT, NAME, GROUPID, PARTYTYPE) VALUES ('C-2', 'Fabrikam', "
      "'NOPE', 'Organization');");
  RunOnce();
  EXPECT_EQ(MapStatus("customers")["waiting"], 1);
  EXPECT_EQ(MapStatus("customers")["errors"], 0);

  clock_.Advance(59);
  RunOnce();
  EXPECT_EQ(MapStatus("customers")["waiting"], 1) << "the timeout has not passed";
  EXPECT_EQ(MapStatus("customers")["errors"], 0);

  clock_.Advance(1);
  RunOnce();
  EXPECT_EQ(MapStatus("customers")["waiting"], 0);
  EXPECT_EQ(MapStatus("customers")["errors"], 1);
}

}  // namespace
}  // namespace duet::engine
