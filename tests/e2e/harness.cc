#include "tests/e2e/harness.h"

#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>

#include "runtime/endpoint/sqlite/sql_quote.h"

#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

std::string FromEnv(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::string(fallback);
}

// sqlite3's output separators: unit and record separator, which no test
// value contains, so values with '|' or line breaks still split correctly.
constexpr char kColumnSep = '\x1f';
constexpr char kRowSep = '\x1e';

bool IsBusy(const RunResult& r) {
  return r.err.find("database is locked") != std::string::npos ||
         r.err.find("database is busy") != std::string::npos;
}

}  // namespace

// Whether `duet` has the subcommand `command`: `duet COMMAND --help` then
// prints the subcommand's usage ("Usage: .../duet COMMAND [OPTIONS]"). For an
// unknown command CLI11 prints the main usage (also exit 0), so the exit
// code alone does not tell.
bool DuetHasCommand(const std::string& command, const fs::path& scratch, RunResult* r) {
  *r = RunProcess({GetTools().duet, command, "--help"}, scratch, scratch);
  if (!r->exited || r->exit_code != 0) return false;
  size_t usage = r->out.find("Usage:");
  if (usage == std::string::npos) return false;
  std::string line = r->out.substr(usage, r->out.find('\n', usage) - usage) + " ";
  return line.find(" " + command + " ") != std::string::npos;
}

const Tools& GetTools() {
  static const Tools tools = [] {
    Tools t;
    t.duetc = FromEnv("DUETC", DUET_E2E_DUETC);
    t.duet = FromEnv("DUET", DUET_E2E_DUET);
    t.sqlite3 = FromEnv("SQLITE3", DUET_E2E_SQLITE3);
    t.maps_dir = FromEnv("DUET_E2E_MAPS_DIR", DUET_E2E_MAPS_DIR);
    return t;
  }();
  return tools;
}

std::string FormatRows(const Rows& rows) {
  std::string text;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) text += (i ? " | " : "") + row[i];
    text += "\n";
  }
  return text.empty() ? "(no rows)\n" : text;
}

RunResult Sqlite::TryExec(std::string_view sql) const {
  // One transaction, taken with BEGIN IMMEDIATE: it waits for duet's write
  // lock up front (so no busy error mid-way), and a failing statement rolls
  // the whole script back, so a retry after "database is locked" is safe.
  std::string script = "BEGIN IMMEDIATE;\n" + std::string(sql) + "\nCOMMIT;\n";
  std::vector<std::string> argv = {GetTools().sqlite3, "-batch",    "-bail", "-cmd",
                                   ".timeout 30000",   db_.string()};
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  do {
    r = RunProcess(argv, scratch_, scratch_, script);
  } while (r.exited && r.exit_code != 0 && IsBusy(r) &&
           std::chrono::steady_clock::now() < deadline);
  return r;
}

bool Sqlite::Exec(std::string_view sql) const {
  RunResult r = TryExec(sql);
  if (r.exited && r.exit_code == 0 && r.err.empty()) return true;
  ADD_FAILURE() << "sqlite3 " << db_.filename() << " failed on:\n"
                << sql.substr(0, 2000) << "\n"
                << Show({GetTools().sqlite3, db_.string()}, r);
  return false;
}

Rows Sqlite::Query(std::string_view sql) const {
  std::optional<Rows> rows = QueryImpl(sql, /*report=*/true);
  return rows.has_value() ? *rows : Rows();
}

std::optional<Rows> Sqlite::TryQuery(std::string_view sql) const {
  if (!fs::exists(db_)) return std::nullopt;
  return QueryImpl(sql, /*report=*/false);
}

std::optional<Rows> Sqlite::QueryImpl(std::string_view sql, bool report) const {
  std::vector<std::string> argv = {GetTools().sqlite3,
                                   "-batch",
                                   "-bail",
                                   "-noheader",
                                   "-list",
                                   "-separator",
                                   std::string(1, kColumnSep),
                                   "-newline",
                                   std::string(1, kRowSep),
                                   "-nullvalue",
                                   "NULL",
                                   "-cmd",
                                   ".timeout 30000",
                                   db_.string()};
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  do {
    r = RunProcess(argv, scratch_, scratch_, std::string(sql) + ";\n");
  } while (r.exited && r.exit_code != 0 && IsBusy(r) &&
           std::chrono::steady_clock::now() < deadline);
  Rows rows;
  if (!r.exited || r.exit_code != 0 || !r.err.empty()) {
    if (report) {
      ADD_FAILURE() << "sqlite3 " << db_.filename() << " query failed: " << sql << "\n"
                    << Show(argv, r);
    }
    return std::nullopt;
  }
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find(kRowSep, start);
    if (end == std::string::npos) end = r.out.size();
    std::string_view line(r.out.data() + start, end - start);
    std::vector<std::string> row;
    size_t col = 0;
    while (true) {
      size_t next = line.find(kColumnSep, col);
      row.emplace_back(line.substr(col, next == std::string_view::npos ? line.npos : next - col));
      if (next == std::string_view::npos) break;
      col = next + 1;
    }
    rows.push_back(std::move(row));
    start = end + 1;
  }
  return rows;
}

std::string Sqlite::Value(std::string_view sql) const {
  Rows rows = Query(sql);
  if (rows.empty() || rows[0].empty()) return "";
  EXPECT_EQ(rows.size(), 1u) << sql << "\n" << FormatRows(rows);
  return rows[0][0];
}

int64_t Sqlite::Int(std::string_view sql) const {
  std::string value = Value(sql);
  char* end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  EXPECT_TRUE(!value.empty() && end != nullptr && *end == '\0')
      << "not an integer: '" << value << "' from " << sql;
  return v;
}

Rows Sqlite::Schema() const {
  return Query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
}

std::string Quote(std::string_view text) { return sqlite::QuoteLiteral(text); }

std::string QuoteOrNull(const std::optional<std::string>& text) {
  return text.has_value() ? Quote(*text) : std::string("NULL");
}

bool LockHolder::Hold(const fs::path& db, const fs::path& dir) {
  std::string name = db.filename().string();
  fs::path locked = dir / ("locked-" + name);
  release_ = dir / ("release-" + name);
  fs::path script = dir / ("hold-" + name + ".sql");
  // .timeout: the holder waits for a writer already there (duet) instead of
  // failing to take the lock.
  WriteFile(script,
            ".timeout 30000\n"
            "CREATE TABLE IF NOT EXISTS app_lock (x);\n"
            "BEGIN IMMEDIATE;\n"
            "INSERT INTO app_lock VALUES (1);\n"
            ".shell touch '" +
                locked.string() +
                "'\n"
                ".shell while [ ! -e '" +
                release_.string() +
                "' ]; do sleep 0.05; done\n"
                "COMMIT;\n");
  if (!process_.Start({GetTools().sqlite3, "-bail", db.string()}, dir,
                      dir / ("hold-" + name + ".out"), dir / ("hold-" + name + ".log"), script)) {
    return false;
  }
  return PollUntil([&] { return fs::exists(locked); });
}

void LockHolder::Release() {
  WriteFile(release_, "");
  process_.Wait(std::chrono::minutes(1));
}

int64_t ChangelogEnd(const Sqlite& db) {
  return db.Int("SELECT coalesce(max(seq), 0) FROM duet_changelog");
}

void SetCaptureTime(const Sqlite& db, int64_t after_seq, int64_t unix_ms) {
  EXPECT_TRUE(db.Exec("UPDATE duet_changelog SET at = " + std::to_string(unix_ms) +
                      " WHERE seq > " + std::to_string(after_seq) + ";"));
}

uint64_t SeedFrom(const char* env_var) {
  const char* value = std::getenv(env_var);
  if (value != nullptr && *value != '\0') return std::strtoull(value, nullptr, 10);
  return (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

void E2eTest::SetUp() {
  const Tools& tools = GetTools();
  for (const std::string& tool : {tools.duetc, tools.duet, tools.sqlite3}) {
    ASSERT_TRUE(fs::exists(tool)) << "missing tool: '" << tool
                                  << "' (set DUETC, DUET, SQLITE3, or install sqlite3: "
                                     "scripts/setup.sh)";
  }
  ASSERT_TRUE(fs::is_directory(tools.maps_dir)) << tools.maps_dir;
  std::string pattern = (fs::temp_directory_path() / "duet_e2e_XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
  dir_ = pattern;
  fs::create_directories(dir_ / ".scratch");
  fo_ = Sqlite(dir_ / "fo.db", dir_ / ".scratch");
  ce_ = Sqlite(dir_ / "ce.db", dir_ / ".scratch");
  state_ = Sqlite(dir_ / "state.db", dir_ / ".scratch");
}

void E2eTest::TearDown() {
  if (dir_.empty()) return;
  bool keep = HasFailure() || !FromEnv("DUET_E2E_KEEP", "").empty();
  if (keep) {
    std::cerr << "[ e2e ] test directory kept: " << dir_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void E2eTest::Compile(const std::vector<std::string>& map_files) {
  std::vector<std::string> argv = {GetTools().duetc, "compile"};
  for (const std::string& file : map_files)
    argv.push_back((fs::path(GetTools().maps_dir) / file).string());
  argv.insert(argv.end(), {"-o", (dir_ / "maps.duetb").string()});
  RunResult r = RunProcess(argv, dir_, dir_ / ".scratch");
  ASSERT_EQ(r.exit_code, kExitOk) << Show(argv, r);
}

void E2eTest::WriteConfig(const nlohmann::json& extra) {
  nlohmann::json config = {
      {"bundle", "maps.duetb"},
      {"systems", {{"fo", "sqlite:fo.db"}, {"ce", "sqlite:ce.db"}}},
      {"state", "sqlite:state.db"},
      {"cache_dir", "cache"},
  };
  for (const auto& [key, value] : extra.items()) config[key] = value;
  WriteConfigText(config.dump(2) + "\n");
}

void E2eTest::WriteConfigText(std::string_view text) { WriteFile(config(), text); }

RunResult E2eTest::Duet(const std::string& command, const std::vector<std::string>& args,
                        const EnvChanges& env, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {GetTools().duet, command, "-c", config().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  EnvChanges all = env_;
  for (const auto& [name, value] : env) all[name] = value;
  RunResult r = RunProcess(argv, dir_, dir_ / ".scratch", "", all, timeout);
  printed_ += r.out + r.err;
  return r;
}

RunResult E2eTest::DuetExpect(int exit_code, const std::string& command,
                              const std::vector<std::string>& args) {
  RunResult r = Duet(command, args);
  std::vector<std::string> argv = {"duet", command, "-c", config().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  EXPECT_EQ(r.exit_code, exit_code) << Show(argv, r);
  return r;
}

void E2eTest::UseItems() {
  Compile({"items.duet"});
  ASSERT_TRUE(fo_.Exec(kItemsFo));
  ASSERT_TRUE(ce_.Exec(kItemsCe));
}

Process E2eTest::StartRun() {
  Process run;
  std::string name = "run-" + std::to_string(++runs_);
  run.Start({GetTools().duet, "run", "-c", config().string()}, dir_, dir_ / (name + ".out"),
            dir_ / (name + ".err"), {}, env_);
  return run;
}

void E2eTest::StopRun(Process& run) {
  std::vector<std::string> argv = run.argv();
  run.Signal(SIGTERM);
  RunResult r = run.Wait(std::chrono::minutes(2));
  EXPECT_TRUE(r.exited && r.exit_code == kExitOk) << "duet run must exit 0 after SIGTERM\n"
                                                  << Show(argv, r);
}

void E2eTest::KillRun(Process& run) {
  run.Signal(SIGKILL);
  run.Wait(std::chrono::minutes(1));
}

nlohmann::json E2eTest::StatusJson() {
  RunResult r = DuetExpect(kExitOk, "status", {"--json"});
  nlohmann::json status = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(status.is_discarded()) << "status --json printed no JSON:\n" << r.out;
  return status.is_discarded() ? nlohmann::json() : status;
}

Rows E2eTest::ErrorItems(const std::string& map, bool open_only) const {
  return state_.Query(
      "SELECT kind, system, status, reason, row_id, source_row FROM duet_errors WHERE map = " +
      Quote(map) + (open_only ? " AND status = 'open'" : "") + " ORDER BY id");
}

int64_t E2eTest::OpenErrors() const {
  return state_.Int("SELECT count(*) FROM duet_errors WHERE status = 'open'");
}

void PgE2eTest::SetUp() {
  E2eTest::SetUp();
  if (HasFatalFailure()) return;
  Status s = pg_.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  env_["DUET_PG_PASSWORD"] = pg_.password();
}

void PgE2eTest::TearDown() {
  if (!pg_.password().empty() && !dir_.empty()) {
    EXPECT_EQ(printed_.find(pg_.password()), std::string::npos)
        << "a duet command printed the password";
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
      std::string ext = entry.path().extension().string();
      if (ext != ".out" && ext != ".err") continue;
      EXPECT_EQ(ReadFile(entry.path()).find(pg_.password()), std::string::npos)
          << entry.path() << " has the password";
    }
  }
  E2eTest::TearDown();
}

std::string PgE2eTest::PgUrl(std::string_view database, std::string_view search_path) const {
  std::string url =
      "postgresql://duet:${DUET_PG_PASSWORD}@127.0.0.1:" + std::to_string(pg_.port()) + "/" +
      std::string(database);
  if (!search_path.empty()) url += "?options=-csearch_path%3D" + std::string(search_path);
  return url;
}

void PgE2eTest::CreateDatabase(std::string_view database) {
  Expected<std::string> out =
      pg_.AdminPsql("CREATE DATABASE " + std::string(database) + " OWNER duet");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Status s = pg_.GrantReplicationOrigins(database);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

Expected<std::string> PgE2eTest::TryPsqlIn(std::string_view database, std::string_view sql) const {
  RunResult r = pg_.RunPsql("host=127.0.0.1 port=" + std::to_string(pg_.port()) +
                                " dbname=" + std::string(database) + " user=duet",
                            pg_.password(), sql);
  if (!r.exited || r.exit_code != 0) {
    return UnavailableError("psql failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
  }
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string PgE2eTest::PsqlIn(std::string_view database, std::string_view sql) const {
  Expected<std::string> out = TryPsqlIn(database, sql);
  EXPECT_TRUE(out.ok()) << out.status().ToString() << "\n" << sql;
  return out.ok() ? *out : "";
}

std::string PgE2eTest::PgSchema(const std::vector<std::string>& map_files,
                                const std::string& system) {
  std::vector<std::string> argv = {GetTools().duetc, "schema",   "--dialect",
                                   "postgresql",     "--system", system};
  for (const std::string& file : map_files)
    argv.push_back((fs::path(GetTools().maps_dir) / file).string());
  RunResult r = RunProcess(argv, dir_, dir_ / ".scratch");
  EXPECT_EQ(r.exit_code, kExitOk) << Show(argv, r);
  return r.exit_code == kExitOk ? r.out : "";
}

}  // namespace duet::e2e
