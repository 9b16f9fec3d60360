// Attacks on a deployment (issue 13): passwords in connection strings,
// files that hold row data, databases shared by mistake, a second `duet run`
// through a symbolic link, resync conditions that try to escape their
// parentheses, and half-open connections against /healthz. Driven as an
// operator (or another local user) would, with duet as a separate process.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

class HardeningTest : public E2eTest {
 protected:
  // maps/items.duet with one row on fo, configured and installed.
  void UseItems(const json& extra = json::object()) {
    Compile({"items.duet"});
    ASSERT_TRUE(fo_.Exec(kItemsFo));
    ASSERT_TRUE(ce_.Exec(kItemsCe));
    ASSERT_TRUE(fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('I1', 'one', 1);"));
    WriteConfig(extra);
    Install();
  }
  // Waits until a change made on fo now arrives on ce: the background run
  // holds its lock and syncs.
  void WaitUntilSyncing() {
    static int n = 0;
    std::string name = "warm-" + std::to_string(++n);
    ASSERT_TRUE(fo_.Exec("UPDATE Item SET NAME = '" + name + "' WHERE CODE = 'I1';"));
    ASSERT_TRUE(PollUntil([&] { return ce_.Value("SELECT name FROM item") == name; }));
  }
  // Writes `config` to dir_/NAME and runs `duet ARGS -c NAME`.
  RunResult DuetWith(const std::string& name, const json& config,
                     const std::vector<std::string>& args, const EnvChanges& env = {}) {
    WriteFile(dir_ / name, config.dump(2) + "\n");
    std::vector<std::string> argv = {GetTools().duet, args.at(0), "-c", (dir_ / name).string()};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return RunProcess(argv, dir_, dir_ / ".scratch", "", env, std::chrono::minutes(1));
  }
  static json Config(const std::string& fo, const std::string& ce,
                     const std::string& state = "sqlite:state.db") {
    return {{"bundle", "maps.duetb"},
            {"systems", {{"fo", fo}, {"ce", ce}}},
            {"state", state},
            {"cache_dir", "cache"}};
  }
};

// Item 12: a password in a connection string from the environment never
// reaches the terminal, whichever form it takes and whichever command reads
// the configuration.
TEST_F(HardeningTest, PasswordsInConnectionStringsAreNeverPrinted) {
  Compile({"items.duet"});
  const std::vector<std::string> urls = {
      "postgres://duet:S3cr3tPw@db.example:5432/erp",
      "postgres://db.example/erp?user=duet&password=S3cr3tPw&sslmode=require",
      "host=db.example user=duet password=S3cr3tPw dbname=erp",
  };
  for (const std::string& url : urls) {
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"run", "--once"}, {"status"}, {"install"}}) {
      RunResult r =
          DuetWith("duet.json", Config("${FO_URL}", "sqlite:ce.db"), command, {{"FO_URL", url}});
      EXPECT_EQ(r.exit_code, kExitError) << Show(command, r);
      // Keyword text is no connection string duet takes; a PostgreSQL URI
      // is, and its server cannot be reached (db.example does not resolve).
      EXPECT_THAT(r.err,
                  HasSubstr(url.starts_with("postgres://") ? "postgresql (fo): cannot connect"
                                                           : "unsupported connection string"))
          << Show(command, r);
      EXPECT_THAT(r.err, Not(HasSubstr("S3cr3tPw"))) << Show(command, r);
      EXPECT_THAT(r.out, Not(HasSubstr("S3cr3tPw"))) << Show(command, r);
    }
  }
}

// Item 12: the state store (with its -wal and -shm), its lock file and the
// DUET_TRACE file hold row data or say where it is: created 0600 whatever
// the umask.
TEST_F(HardeningTest, StateStoreLockAndTraceAreCreatedPrivate) {
  UseItems();
  mode_t old_umask = ::umask(0);  // inherited by duet: the widest there is
  Process run;
  ASSERT_TRUE(run.Start({GetTools().duet, "run", "-c", config().string()}, dir_, dir_ / "run.out",
                        dir_ / "run.err", {}, {{"DUET_TRACE", (dir_ / "trace.log").string()}}));
  ::umask(old_umask);
  WaitUntilSyncing();
  ASSERT_TRUE(PollUntil([&] {
    return fs::exists(dir_ / "state.db-wal") && fs::exists(dir_ / "state.db-shm") &&
           fs::exists(dir_ / "trace.log") && fs::file_size(dir_ / "trace.log") > 0;
  })) << ReadFile(dir_ / "run.err");
  EXPECT_EQ(ModeOf(dir_ / "state.db"), 0600u);
  EXPECT_EQ(ModeOf(dir_ / "state.db-wal"), 0600u);
  EXPECT_EQ(ModeOf(dir_ / "state.db-shm"), 0600u);
  EXPECT_EQ(ModeOf(fs::canonical(dir_ / "state.db").string() + ".lock"), 0600u);
  EXPECT_EQ(ModeOf(dir_ / "trace.log"), 0600u);
  StopRun(run);
}

// Item 8: two systems on one database file (by any path), or the state
// store on a system's file, are refused at the start: duet would wait for
// its own lock.
TEST_F(HardeningTest, OneDatabaseFileForTwoUsesIsRefused) {
  UseItems();
  fs::create_symlink("fo.db", dir_ / "link-to-fo.db");
  fs::create_symlink("fresh.db", dir_ / "link-to-fresh.db");
  struct Case {
    json config;
    std::string keys;  // the two keys the message names
  };
  const std::vector<Case> cases = {
      {Config("sqlite:fo.db", "sqlite:fo.db"), "'systems.ce' and 'systems.fo'"},
      {Config("sqlite:fo.db", "sqlite:./fo.db"), "'systems.ce' and 'systems.fo'"},
      {Config("sqlite:fo.db", "sqlite:link-to-fo.db"), "'systems.ce' and 'systems.fo'"},
      {Config("sqlite:fo.db", "sqlite:" + (dir_ / "fo.db").string()),
       "'systems.ce' and 'systems.fo'"},
      {Config("sqlite:fo.db", "sqlite:ce.db", "sqlite:link-to-fo.db"), "'systems.fo' and 'state'"},
      {Config("sqlite:fresh.db", "sqlite:./fresh.db"), "'systems.ce' and 'systems.fo'"},
      {Config("sqlite:fresh.db", "sqlite:link-to-fresh.db"), "'systems.ce' and 'systems.fo'"},
  };
  for (const Case& c : cases) {
    for (const std::vector<std::string>& command :
         std::vector<std::vector<std::string>>{{"run", "--once"}, {"status"}}) {
      RunResult r = DuetWith("shared.json", c.config, command);
      std::string shown = c.config.dump() + "\n" + Show(command, r);
      EXPECT_EQ(r.exit_code, kExitError) << shown;
      EXPECT_THAT(r.err, HasSubstr(c.keys + " are the same database file")) << shown;
    }
  }
  EXPECT_FALSE(fs::exists(dir_ / "fresh.db")) << "refused before anything was created";
  DuetExpect(kExitOk, "status");
}

// Item 9: the run lock belongs to the state store's file, not to the path
// that names it: a second `duet run` through a symbolic link is refused.
TEST_F(HardeningTest, SecondRunThroughASymlinkToTheStateStoreIsRefused) {
  UseItems();
  Process run = StartRun();
  WaitUntilSyncing();
  fs::create_symlink("state.db", dir_ / "link-to-state.db");
  RunResult second =
      DuetWith("second.json", Config("sqlite:fo.db", "sqlite:ce.db", "sqlite:link-to-state.db"),
               {"run", "--once"});
  EXPECT_EQ(second.exit_code, kExitError) << Show({"run", "--once"}, second);
  EXPECT_THAT(second.err, HasSubstr("another duet process is running"));
  WaitUntilSyncing();
  StopRun(run);
}

// Item 10: a resync condition is one expression. Text that ends the
// statement, comments out duet's own clauses or closes the parenthesis duet
// puts around it is refused before anything starts; conditions with
// parentheses, quotes and comments of their own work.
TEST_F(HardeningTest, ResyncConditionIsExactlyOneExpression) {
  UseItems();
  RunOnce();
  ASSERT_TRUE(fo_.Exec("CREATE TABLE x (a); INSERT INTO Item (CODE, NAME) VALUES (')', 'paren');"));
  RunOnce();
  for (std::string where : {"1); DROP TABLE x; --", "1) --", "1) /*", "1) OR (1", "1; DROP TABLE x",
                            "(1", "'1", "1 /* unclosed"}) {
    RunResult r = DuetExpect(kExitError, "resync", {"items", "--from", "fo", "--where", where});
    EXPECT_THAT(r.err, HasSubstr("the condition '" + where + "'")) << r.err;
    EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_resync"), 0) << where;
  }
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM sqlite_master WHERE name = 'x'"), 1);
  for (std::string where : {"t.CODE = 'I1' -- the first item", "t.CODE IN ('I1', ')') /* both */",
                            "(t.QTY = 1) OR (t.NAME = 'paren')", "t.\"CODE\" = ';'"}) {
    RunResult r = DuetExpect(kExitOk, "resync", {"items", "--from", "fo", "--where", where});
    EXPECT_THAT(r.out, HasSubstr("resync from fo done")) << where << "\n" << r.err;
  }
}

// Item 10: `duet resync --keys` quotes the key's column names, whatever
// they hold.
TEST_F(HardeningTest, ResyncByKeysQuotesTheKeyColumns) {
  Compile({"quoted.duet"});
  ASSERT_TRUE(fo_.Exec(
      "CREATE TABLE Quoted (RECID INTEGER PRIMARY KEY, \"co\"\"de\" TEXT NOT NULL, A TEXT);"
      "INSERT INTO Quoted (\"co\"\"de\", A) VALUES ('K1', 'a1'), ('K''2', 'a2');"));
  ASSERT_TRUE(ce_.Exec(
      "CREATE TABLE quoted (qid INTEGER PRIMARY KEY, \"co\"\"de\" TEXT NOT NULL, a TEXT);"));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Int("SELECT count(*) FROM quoted"), 2);
  // Drift behind duet's back: the capture of ce's updates is gone.
  ASSERT_TRUE(ce_.Exec("DROP TRIGGER duet_quoted_update; UPDATE quoted SET a = 'drift';"));
  WriteFile(dir_ / "keys.txt", "K'2\n");
  RunResult r = DuetExpect(kExitOk, "resync", {"quoted", "--from", "fo", "--keys", "keys.txt"});
  EXPECT_THAT(r.out, HasSubstr("resync from fo done")) << r.err;
  Rows expected = {{"K'2", "a2"}, {"K1", "drift"}};
  EXPECT_EQ(ce_.Query("SELECT \"co\"\"de\", a FROM quoted ORDER BY 1"), expected);
}

// An HTTP GET of `path` on 127.0.0.1:`port`: the body of a 200 answer, or
// "" when there is none within `timeout`.
std::string HttpGet(const std::string& port, const std::string& path,
                    std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  size_t body = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) return "";
  return answer.substr(body + 4);
}

// Item 11: idle connections held open by a local process (more than the
// old thread pool had threads) do not keep /healthz from answering.
TEST_F(HardeningTest, HealthAnswersWhileIdleConnectionsAreHeld) {
  UseItems();
  Process run;
  ASSERT_TRUE(run.Start({GetTools().duet, "run", "-c", config().string(), "--metrics-port", "0"},
                        dir_, dir_ / "metrics.out", dir_ / "metrics.err"));
  std::string port;
  ASSERT_TRUE(PollUntil([&] {
    std::string log = ReadFile(dir_ / "metrics.err");
    size_t at = log.find("http://127.0.0.1:");
    if (at == std::string::npos) return false;
    size_t begin = at + std::string("http://127.0.0.1:").size();
    port = log.substr(begin, log.find('/', begin) - begin);
    return true;
  })) << ReadFile(dir_ / "metrics.err");
  EXPECT_EQ(HttpGet(port, "/healthz", std::chrono::seconds(30)), "ok\n");
  constexpr int kIdle = 40;
  std::vector<int> idle;
  for (int i = 0; i < kIdle; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    idle.push_back(fd);  // connected, and never says a word
  }
  // Fails only if /healthz never answers within 10 s.
  std::string body;
  EXPECT_TRUE(PollUntil(
      [&] {
        body = HttpGet(port, "/healthz", std::chrono::seconds(1));
        return body == "ok\n";
      },
      std::chrono::seconds(10)))
      << "last answer: '" << body << "'";
  for (int fd : idle) ::close(fd);
  StopRun(run);
}

}  // namespace
}  // namespace duet::e2e
