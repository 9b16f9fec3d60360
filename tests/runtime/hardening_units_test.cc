// Unit tests of what keeps secrets and row data in: connection strings
// redacted in messages, private files created private, atomic writes that
// never follow a prepared name, and the state store's progress counts
// (issue 13).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "runtime/base/files.h"
#include "runtime/base/redact.h"
#include "runtime/state/open_state_store.h"
#include "runtime/state/state_store.h"

namespace duet {
namespace {

namespace fs = std::filesystem;

TEST(RedactTest, PasswordsInUrlsAndParametersAreHidden) {
  struct Case {
    const char* text;
    const char* shown;
  };
  const Case cases[] = {
      {"postgres://duet:S3cr3t@db.example:5432/erp", "postgres://duet:***@db.example:5432/erp"},
      {"postgres://duet:S3c/r3t@db/erp", "postgres://duet:***@db/erp"},
      {"postgres://duet:p@ss@db/erp", "postgres://duet:***@db/erp"},
      {"postgres://db/erp?user=duet&password=S3cr3t&sslmode=require",
       "postgres://db/erp?user=duet&password=***&sslmode=require"},
      {"host=db user=duet password=S3cr3t dbname=erp", "host=db user=duet password=*** dbname=erp"},
      {"host=db password = 'S3 cr''3t' dbname=erp", "host=db password = *** dbname=erp"},
      {"Server=db;Uid=duet;Pwd=S3cr3t;", "Server=db;Uid=duet;Pwd=***;"},
      {"x?PASSWD=S3cr3t", "x?PASSWD=***"},
      {"sqlite:erp.db", "sqlite:erp.db"},
      {"postgres://duet@db/erp", "postgres://duet@db/erp"},
      {"mytoken=1&nopassword=2", "mytoken=1&nopassword=2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RedactConnectionString(c.text), c.shown) << c.text;
  }
}

class FilesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "duet_files_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    old_umask_ = ::umask(0);  // the modes below must not depend on it
  }
  void TearDown() override {
    ::umask(old_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static mode_t Mode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_F(FilesTest, AtomicWriteIsPrivateAndSaysWhyItFails) {
  fs::path key = dir_ / "k.key";
  ASSERT_TRUE(WriteFileAtomically(key.string(), "secret", kPrivateFileMode).ok());
  EXPECT_EQ(Read(key), "secret");
  EXPECT_EQ(Mode(key), 0600u);
  Status missing = WriteFileAtomically((dir_ / "nope" / "x").string(), "x", kSharedFileMode);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(),
            "cannot write '" + (dir_ / "nope" / "x").string() + "': No such file or directory");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
      << "no temporary file is left";
}

TEST_F(FilesTest, PrivateFilesAreCreated0600AndKeepAnExistingMode) {
  fs::path made = dir_ / "state.db";
  Expected<int> fd = OpenPrivateFile(made.string(), O_RDWR, "state store");
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  ::close(*fd);
  EXPECT_EQ(Mode(made), 0600u);
  fs::path shared = dir_ / "shared.db";
  std::ofstream(shared) << "";
  fs::permissions(shared, fs::perms(0640));
  fd = OpenPrivateFile(shared.string(), O_RDWR, "state store");
  ASSERT_TRUE(fd.ok());
  ::close(*fd);
  EXPECT_EQ(Mode(shared), 0640u) << "a mode the operator chose stays";
  Expected<int> bad = OpenPrivateFile((dir_ / "nope" / "x").string(), O_RDWR, "lock file");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lock file"), std::string::npos);
  EXPECT_NE(bad.status().message().find("No such file or directory"), std::string::npos);
}

TEST_F(FilesTest, StateStoreIsPrivateAndProgressNeverShowsMoreDoneThanTotal) {
  fs::path path = dir_ / "state.db";
  Expected<std::unique_ptr<state::StateStore>> store =
      state::OpenStateStore(path.string(), state::StateStore::OpenMode::kCreate);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(dir_ / "state.db-wal"), 0600u);
  EXPECT_EQ(Mode(dir_ / "state.db-shm"), 0600u);

  // The totals are estimates counted at the start; rows added since are
  // read too.
  state::MapState m;
  m.name = "items";
  m.phase = state::MapPhase::kInitial;
  m.initial_done = 102063;
  m.initial_total = 102040;
  ASSERT_TRUE((*store)->PutMap(m).ok());
  Expected<state::MapState> back = (*store)->GetMap("items");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->initial_done, 102063);
  EXPECT_EQ(back->initial_total, 102063);

  state::Resync r;
  r.map = "items";
  r.from = "fo";
  r.started = 1767225600.5;
  r.done = 12;
  r.total = 10;
  ASSERT_TRUE((*store)->PutResync(r).ok());
  Expected<std::optional<state::Resync>> resync = (*store)->GetResync("items");
  ASSERT_TRUE(resync.ok() && resync->has_value());
  EXPECT_EQ((**resync).done, 12);
  EXPECT_EQ((**resync).total, 12);
  EXPECT_EQ((**resync).started, 1767225600.5);
}

// The state store keeps times as ISO text readable with the database's own
// client and hands Unix seconds to the runtime: the two convert to the
// millisecond, and a damaged value is text that says so, never a crash.
TEST(StateTimes, IsoTextAndSecondsConvertToTheMillisecond) {
  EXPECT_EQ(state::IsoAt(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(state::IsoAt(1767225600.25), "2026-01-01T00:00:00.250Z");
  EXPECT_EQ(state::IsoAt(1767225600.9996), "2026-01-01T00:00:01.000Z") << "rounded";
  EXPECT_EQ(state::IsoAt(-0.5), "1969-12-31T23:59:59.500Z");
  for (double t : {0.0, 1.001, 1767225600.25, 4102444799.999}) {
    std::optional<double> back = state::ParseIso(state::IsoAt(t));
    ASSERT_TRUE(back) << t;
    EXPECT_NEAR(*back, t, 0.0005) << t;
  }
  EXPECT_EQ(state::ParseIso("2026-01-01T00:00:00Z"), 1767225600.0);
  for (std::string_view bad :
       {"", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00.25Z",
        "2026-01-01 00:00:00.000Z", "x026-01-01T00:00:00.000Z"}) {
    EXPECT_FALSE(state::ParseIso(bad)) << bad;
  }
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL, 1e300, -1e300}) {
    EXPECT_EQ(state::IsoAt(bad), "invalid time");
  }
}

}  // namespace
}  // namespace duet
