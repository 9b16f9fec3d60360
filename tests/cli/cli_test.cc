// End-to-end tests of the duetc binary, run as a separate process the way a
// user or a CI job runs it: exit codes, which stream gets what, --format json,
// --max-errors, --werror, and hostile input (huge, binary, deeply nested).
//
// The binary is named by --duetc=PATH (tests/cli/CMakeLists.txt passes
// $<TARGET_FILE:duetc>) or the DUETC environment variable; the repository root
// by --repo-root=PATH or DUET_REPO_ROOT. Inputs are written to a fresh
// temporary directory per test; nothing generated is committed.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace duet::cli {
namespace {

namespace fs = std::filesystem;

// Set from the command line or the environment in main().
std::string g_duetc;
std::string g_repo_root;

constexpr int kExitClean = 0;
constexpr int kExitErrors = 1;
constexpr int kExitUsage = 2;

struct RunResult {
  bool exited = false;  // false: killed by a signal (a crash)
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

size_t Count(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

// Whether `text` is well-formed UTF-8; terminal and JSON output must be,
// whatever bytes the input held.
bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80             ? 1
                    : (byte & 0xE0) == 0xC0 ? 2
                    : (byte & 0xF0) == 0xE0 ? 3
                    : (byte & 0xF8) == 0xF0 ? 4
                                            : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

// A map file with its systems and two small tables, plus `body` (maps and
// tests). Clean when `body` is.
std::string MapFile(std::string_view body) {
  return std::string(
             "system fo;\n"
             "system ce;\n"
             "\n"
             "table fo.CustCustomerV3Entity {\n"
             "  CUSTOMERACCOUNT  string(20) not null;\n"
             "  ONHOLDSTATUS     string(12);\n"
             "  PARTYTYPE        string(12);\n"
             "  SALESMEMO        string(1000);\n"
             "  key (CUSTOMERACCOUNT);\n"
             "}\n"
             "\n"
             "table ce.account {\n"
             "  accountnumber      string(20) not null;\n"
             "  msdyn_onholdstatus int;\n"
             "  customertypecode   int;\n"
             "  creditonhold       bool;\n"
             "  description        string(2000);\n"
             "  key (accountnumber);\n"
             "}\n"
             "\n") +
         std::string(body);
}

class DuetcTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(g_duetc.empty()) << "pass --duetc=PATH or set DUETC to the duetc binary";
    ASSERT_TRUE(fs::exists(g_duetc)) << g_duetc;
    ASSERT_FALSE(g_repo_root.empty()) << "pass --repo-root=PATH or set DUET_REPO_ROOT";
    std::string pattern = (fs::temp_directory_path() / "duetc_cli_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }

  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Writes `contents` to `name` under the test's directory; returns its path.
  fs::path Write(const std::string& name, std::string_view contents) {
    fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  // Runs duetc with `args` in `cwd` (the repository root by default), stdin
  // from /dev/null and both output streams captured through files, so a
  // large output cannot block the child on a full pipe.
  RunResult Run(const std::vector<std::string>& args, const fs::path& cwd = {}) {
    RunResult result;
    fs::path out_path = dir_ / ".stdout";
    fs::path err_path = dir_ / ".stderr";
    std::string dir = (cwd.empty() ? fs::path(g_repo_root) : cwd).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    std::vector<std::string> argv_storage = {g_duetc};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, g_duetc.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << g_duetc << ": " << std::strerror(rc);
      return result;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exited = WIFEXITED(status);
    result.exit_code = result.exited ? WEXITSTATUS(status) : -WTERMSIG(status);
    result.out = ReadAll(out_path);
    result.err = ReadAll(err_path);
    return result;
  }

  fs::path dir_;
};

// Everything gtest should print about a run when an assertion on it fails.
std::string Show(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.exited ? "" : " (killed by a signal)") +
         "\n--- stdout ---\n" + r.out + "\n--- stderr ---\n" + r.err;
}

// ---- exit codes ----

TEST_F(DuetcTest, CleanExampleExitsZero) {
  RunResult r = Run({"check", "examples/minimal"});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_EQ(r.out, "") << "text diagnostics and the summary go to stderr";
  EXPECT_NE(r.err.find("checked 1 file:"), std::string::npos) << Show(r);
  EXPECT_NE(r.err.find("no problems"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, ErrorsExitOne) {
  fs::path file =
      Write("customers.duet", MapFile("map customers: fo.CustCustomerV3Entity -> ce.account {\n"
                                      "  CUSTOMERACCOUNT -> accountnumber;\n"
                                      "  ONHOLDSTATUS    -> msdyn_onholdstatus;\n"
                                      "}\n"));
  RunResult r = Run({"check", "--no-unused-warnings", file.string()});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_NE(r.err.find(file.string() + ":23:3: error[E0300]:"), std::string::npos) << Show(r);
  EXPECT_NE(r.err.find("\n1 error, 0 warnings\n"), std::string::npos) << Show(r);
  EXPECT_EQ(r.err.find("checked "), std::string::npos) << "no success line after errors\n"
                                                       << Show(r);
}

TEST_F(DuetcTest, GoldenFailCaseExitsOne) {
  RunResult r = Run({"check", "tests/golden/check/fail_e0401_column_written_twice.duet"});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_NE(r.err.find("error[E0401]"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, MissingPathExitsTwo) {
  fs::path missing = dir_ / "no_such_map.duet";
  RunResult r = Run({"check", missing.string()});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_NE(r.err.find("error[E0001]"), std::string::npos) << Show(r);
  EXPECT_NE(r.err.find("no such file or directory"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, MissingPathNextToAGoodOneStillExitsTwo) {
  fs::path good =
      Write("customers.duet", MapFile("map customers: fo.CustCustomerV3Entity -> ce.account {\n"
                                      "  CUSTOMERACCOUNT -> accountnumber;\n"
                                      "}\n"));
  RunResult r =
      Run({"check", "--no-unused-warnings", good.string(), (dir_ / "typo.duet").string()});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_EQ(Count(r.err, "error["), 1u) << Show(r);
}

// Issue 12: an output that cannot be written says why, under the name the
// user gave (not a temporary file's).
TEST_F(DuetcTest, UnwritableOutputSaysWhy) {
  fs::path output = dir_ / "no_such_dir" / "x.duetb";
  RunResult r = Run({"compile", "examples/minimal", "-o", output.string()});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_NE(r.err.find("cannot write '" + output.string() + "': No such file or directory"),
            std::string::npos)
      << Show(r);
  EXPECT_EQ(r.err.find(".tmp"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, CheckWithoutPathIsUsageError) {
  RunResult r = Run({"check"});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_NE(r.err.find("paths is required"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, UnknownFlagIsUsageError) {
  RunResult r = Run({"check", "--frobnicate", "examples/minimal"});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, BadFlagValuesAreUsageErrors) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"check", "--format", "xml", "examples"},
        std::vector<std::string>{"check", "--max-errors", "many", "examples"},
        std::vector<std::string>{"check", "--color", "sometimes", "examples"}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << args[1] << " " << args[2] << "\n" << Show(r);
  }
}

TEST_F(DuetcTest, NoSubcommandIsUsageError) {
  RunResult r = Run({});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  RunResult unknown = Run({"compile", "examples"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << Show(unknown);
}

TEST_F(DuetcTest, VersionAndHelpExitZero) {
  RunResult version = Run({"--version"});
  EXPECT_EQ(version.exit_code, kExitClean) << Show(version);
  EXPECT_TRUE(version.out.starts_with("duetc ")) << Show(version);
  RunResult help = Run({"check", "--help"});
  EXPECT_EQ(help.exit_code, kExitClean) << Show(help);
  EXPECT_NE(help.out.find("--max-errors"), std::string::npos) << Show(help);
}

// ---- output formats and options ----

// Two errors and one warning, none a consequence of another.
std::string TwoErrorsOneWarning() {
  return MapFile(
      "map customers: fo.CustCustomerV3Entity -> ce.account {\n"
      "  filter ce: customertypecode == 3;\n"  // W0105 on line 22
      "  filter fo: PARTYTYPE;\n"              // E0302 on line 23
      "  CUSTOMERACCOUNT -> accountnumber;\n"
      "  ONHOLDSTATUS    -> msdyn_onholdstatus;\n"  // E0300 on line 25
      "  PARTYTYPE == \"Organization\" -> creditonhold;\n"
      "  SALESMEMO       -> description;\n"
      "}\n");
}

TEST_F(DuetcTest, JsonOutputIsValidWithTheRightCounts) {
  fs::path file = Write("customers.duet", TwoErrorsOneWarning());
  RunResult r = Run({"check", "--format", "json", file.string()});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_EQ(r.err, "") << "--format json prints only JSON, on stdout";
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(r.out)) << Show(r);
  EXPECT_EQ(doc["errors"], 2) << doc.dump(2);
  EXPECT_EQ(doc["warnings"], 1) << doc.dump(2);
  EXPECT_EQ(doc["omitted"], 0) << doc.dump(2);
  ASSERT_TRUE(doc["diagnostics"].is_array());
  ASSERT_EQ(doc["diagnostics"].size(), 3u) << doc.dump(2);
  std::multiset<std::string> codes;
  for (const nlohmann::json& d : doc["diagnostics"]) {
    codes.insert(d["code"].get<std::string>());
    EXPECT_EQ(d["file"], file.string()) << d.dump(2);
    EXPECT_TRUE(d["line"].is_number_integer() && d["column"].is_number_integer()) << d.dump(2);
    EXPECT_EQ(d["severity"], d["code"].get<std::string>()[0] == 'E' ? "error" : "warning")
        << d.dump(2);
    EXPECT_TRUE(d["notes"].is_array()) << d.dump(2);
  }
  EXPECT_EQ(codes, (std::multiset<std::string>{"E0300", "E0302", "W0105"})) << doc.dump(2);
  // Sorted by position: the filters (lines 22, 23) come before the mapping (25).
  EXPECT_EQ(doc["diagnostics"][0]["code"], "W0105") << doc.dump(2);
  EXPECT_EQ(doc["diagnostics"][1]["line"], 23) << doc.dump(2);
  EXPECT_EQ(doc["diagnostics"][2]["line"], 25) << doc.dump(2);
}

TEST_F(DuetcTest, JsonForACleanCheckIsAnEmptyList) {
  RunResult r = Run({"check", "--format", "json", "examples/minimal"});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(r.out)) << Show(r);
  EXPECT_EQ(doc, nlohmann::json::parse(
                     R"({"diagnostics": [], "errors": 0, "warnings": 0, "omitted": 0})"));
}

// Five independent errors, one per mapping.
std::string FiveErrors() {
  return MapFile(
      "map customers: fo.CustCustomerV3Entity -> ce.account {\n"
      "  CUSTOMERACCOUNT -> accountnumber;\n"
      "  ONHOLDSTATUS    -> msdyn_onholdstatus;\n"
      "  PARTYTYPE       -> customertypecode;\n"
      "  SALESMEMO       -> creditonhold;\n"
      "  \"a\" + 1        -> description;\n"
      "  true            -> msdyn_onholdstatus;\n"
      "}\n");
}

TEST_F(DuetcTest, MaxErrorsCapsTextOutputAndSaysHowManyWereOmitted) {
  fs::path file = Write("customers.duet", FiveErrors());
  RunResult all = Run({"check", "--max-errors", "0", file.string()});
  ASSERT_EQ(Count(all.err, ": error["), 5u) << "the input must have exactly five errors\n"
                                            << Show(all);

  RunResult r = Run({"check", "--max-errors", "2", file.string()});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_EQ(Count(r.err, ": error["), 2u) << Show(r);
  EXPECT_NE(r.err.find("note: 3 more diagnostics not shown (raise the limit with --max-errors)"),
            std::string::npos)
      << Show(r);
  EXPECT_NE(r.err.find("\n5 errors, 0 warnings\n"), std::string::npos) << "the summary counts all\n"
                                                                       << Show(r);
}

TEST_F(DuetcTest, MaxErrorsCapsJsonOutput) {
  fs::path file = Write("customers.duet", FiveErrors());
  RunResult r = Run({"check", "--format", "json", "--max-errors", "2", file.string()});
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(r.out)) << Show(r);
  EXPECT_EQ(doc["diagnostics"].size(), 2u) << doc.dump(2);
  EXPECT_EQ(doc["omitted"], 3) << doc.dump(2);
  EXPECT_EQ(doc["errors"], 5) << doc.dump(2);
}

TEST_F(DuetcTest, QuietPrintsNothingWhenCleanButStillReportsProblems) {
  RunResult r = Run({"check", "-q", "examples/minimal"});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_EQ(r.err, "") << Show(r);
  EXPECT_EQ(r.out, "") << Show(r);
  fs::path file = Write("customers.duet", FiveErrors());
  RunResult errors = Run({"check", "-q", file.string()});
  EXPECT_EQ(errors.exit_code, kExitErrors) << Show(errors);
  EXPECT_EQ(Count(errors.err, ": error["), 5u) << Show(errors);
}

// No errors; warnings for the columns it leaves unused (SALESMEMO,
// msdyn_onholdstatus, customertypecode).
std::string WarningOnly() {
  return MapFile(
      "map customers: fo.CustCustomerV3Entity -> ce.account {\n"
      "  CUSTOMERACCOUNT -> accountnumber;\n"
      "  ONHOLDSTATUS == \"all\" -> creditonhold;\n"
      "  PARTYTYPE       -> description;\n"
      "}\n");
}

TEST_F(DuetcTest, WerrorTurnsWarningsIntoExitOne) {
  fs::path file = Write("customers.duet", WarningOnly());
  RunResult plain = Run({"check", file.string()});
  EXPECT_EQ(plain.exit_code, kExitClean) << Show(plain);
  ASSERT_NE(plain.err.find("warning[W0100]"), std::string::npos) << "the input must warn\n"
                                                                 << Show(plain);
  EXPECT_EQ(plain.err.find("error["), std::string::npos) << Show(plain);

  RunResult werror = Run({"check", "--werror", file.string()});
  EXPECT_EQ(werror.exit_code, kExitErrors) << Show(werror);

  RunResult quiet = Run({"check", "--werror", "--no-unused-warnings", file.string()});
  EXPECT_EQ(quiet.exit_code, kExitClean) << "--no-unused-warnings drops the only warning\n"
                                         << Show(quiet);
  EXPECT_EQ(quiet.err.find("W0100"), std::string::npos) << Show(quiet);
}

TEST_F(DuetcTest, ColorOnlyWhenAskedOrOnATerminal) {
  fs::path file = Write("customers.duet", WarningOnly());
  RunResult redirected = Run({"check", file.string()});
  EXPECT_EQ(redirected.err.find('\033'), std::string::npos)
      << "stderr is a file, so --color auto means none";
  RunResult always = Run({"check", "--color", "always", file.string()});
  EXPECT_NE(always.err.find("\033["), std::string::npos) << Show(always);
  EXPECT_EQ(always.exit_code, redirected.exit_code);
}

TEST_F(DuetcTest, AFileNamedTwiceIsLoadedOnce) {
  fs::path file =
      Write("customers.duet", MapFile("map customers: fo.CustCustomerV3Entity -> ce.account {\n"
                                      "  CUSTOMERACCOUNT -> accountnumber;\n"
                                      "}\n"));
  // The same file by two spellings, and through its directory.
  RunResult r = Run(
      {"check", "--no-unused-warnings", "customers.duet", "./customers.duet", dir_.string()}, dir_);
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_NE(r.err.find("checked 1 file:"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, DumpAstPrintsTheTree) {
  RunResult r = Run({"dump", "--ast", "examples/minimal/customers.duet"});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_NE(r.out.find("customers"), std::string::npos) << Show(r);
}

// ---- directories and odd files ----

TEST_F(DuetcTest, DirectoryWithoutMapFilesExitsTwo) {
  Write("maps/README.txt", "exported maps go here\n");
  Write("maps/customers.map", "system fo;\n");
  RunResult r = Run({"check", (dir_ / "maps").string()});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_NE(r.err.find("error[E0002]"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, DirectoryIsSearchedRecursivelyForMapFiles) {
  Write("maps/systems.duet", "system fo;\nsystem ce;\n");
  Write("maps/nested/deeper/customers.duet",
        "table fo.CustCustomerV3Entity {\n  CUSTOMERACCOUNT string(20) not null;\n  key "
        "(CUSTOMERACCOUNT);\n}\n"
        "table ce.account {\n  accountnumber string(20) not null;\n  key (accountnumber);\n}\n"
        "map customers: fo.CustCustomerV3Entity -> ce.account {\n  CUSTOMERACCOUNT -> "
        "accountnumber;\n}\n");
  Write("maps/notes.txt", "this is not a map file {{{\n");
  RunResult r = Run({"check", (dir_ / "maps").string()});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_NE(r.err.find("checked 2 files:"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, EmptyFileWarnsAndExitsZero) {
  fs::path file = Write("empty.duet", "");
  RunResult r = Run({"check", file.string()});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_NE(r.err.find(file.string() + ": warning[W0001]: file declares nothing"),
            std::string::npos)
      << Show(r);
  RunResult werror = Run({"check", "--werror", file.string()});
  EXPECT_EQ(werror.exit_code, kExitErrors) << Show(werror);
}

// A file far past the 16 MiB limit is refused from its size alone; it is
// never read, so the check stays fast (no timing is asserted here).
TEST_F(DuetcTest, FiftyMegabyteFileIsRefused) {
  fs::path file = dir_ / "generated.duet";
  {
    std::ofstream out(file, std::ios::binary);
    std::string line = "// generated padding, line after line, until the file is fifty megabytes\n";
    std::string chunk;
    while (chunk.size() < (size_t{1} << 20)) chunk += line;
    chunk.resize(size_t{1} << 20);
    for (int i = 0; i < 50; ++i)
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    ASSERT_TRUE(out.good());
  }
  ASSERT_EQ(fs::file_size(file), uintmax_t{50} << 20);
  RunResult r = Run({"check", file.string()});
  EXPECT_TRUE(r.exited) << Show(r);
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_NE(r.err.find("error[E0005]: file is 52428800 bytes; the limit is 16777216 bytes"),
            std::string::npos)
      << Show(r);
}

TEST_F(DuetcTest, InvalidUtf8IsReportedAndOutputStaysUtf8) {
  fs::path file = Write("latin1.duet", "system fo \"Soci\xE9t\xE9\";\nsystem ce;\n");
  RunResult r = Run({"check", file.string()});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_NE(r.err.find(file.string() + ":1:16: error[E0003]"), std::string::npos) << Show(r);
  EXPECT_TRUE(IsUtf8(r.err)) << "the source line must be shown without the bad bytes\n" << Show(r);

  RunResult json = Run({"check", "--format", "json", file.string()});
  EXPECT_TRUE(IsUtf8(json.out)) << Show(json);
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(json.out)) << Show(json);
  EXPECT_EQ(doc["diagnostics"][0]["code"], "E0003") << doc.dump(2);
}

TEST_F(DuetcTest, NulByteIsReportedAndNotEchoed) {
  fs::path file = Write("nul.duet", std::string("system fo;\nsystem ce;\0\n", 23));
  RunResult r = Run({"check", file.string()});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_NE(r.err.find(file.string() + ":2:11: error[E0004]"), std::string::npos) << Show(r);
  EXPECT_EQ(r.err.find('\0'), std::string::npos) << "a NUL byte must not reach the terminal";
}

TEST_F(DuetcTest, TenThousandNestedParenthesesDoNotCrash) {
  std::string filter =
      std::string(10000, '(') + "CUSTOMERACCOUNT != \"\"" + std::string(10000, ')');
  fs::path file =
      Write("deep.duet", MapFile("map customers: fo.CustCustomerV3Entity -> ce.account {\n"
                                 "  filter fo: " +
                                 filter +
                                 ";\n"
                                 "  CUSTOMERACCOUNT -> accountnumber;\n"
                                 "}\n"));
  RunResult r = Run({"check", file.string()});
  EXPECT_TRUE(r.exited) << "duetc crashed\n" << Show(r);
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_NE(r.err.find("error[E0006]"), std::string::npos) << Show(r);
  // The 20,000-character source line is cut around the caret, not printed.
  size_t longest = 0;
  for (size_t start = 0; start < r.err.size();) {
    size_t end = std::min(r.err.find('\n', start), r.err.size());
    longest = std::max(longest, end - start);
    start = end + 1;
  }
  EXPECT_LT(longest, 400u) << Show(r);
}

// ---- duetc docs ----

// Every file in `dir` (not recursive), by name.
std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) names.insert(entry.path().filename().string());
  }
  return names;
}

TEST_F(DuetcTest, DocsWithoutOutputIsUsageError) {
  RunResult r = Run({"docs", "examples/minimal"});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_NE(r.err.find("--output is required"), std::string::npos) << Show(r);
}

TEST_F(DuetcTest, DocsOfMapsWithErrorsExitOneAndWriteNothing) {
  fs::path file = Write("customers.duet", FiveErrors());
  fs::path out = dir_ / "docs";
  RunResult r = Run({"docs", file.string(), "-o", out.string()});
  EXPECT_EQ(r.exit_code, kExitErrors) << Show(r);
  EXPECT_EQ(Count(r.err, ": error["), 5u) << Show(r);
  EXPECT_FALSE(fs::exists(out)) << "nothing is written for maps with errors";
}

TEST_F(DuetcTest, DocsIntoADirectoryThatCannotBeMadeExitsTwo) {
  fs::path file = Write("not_a_directory", "a file\n");
  for (const fs::path& out : {file, file / "docs"}) {
    RunResult r = Run({"docs", "--no-svg", "examples/minimal", "-o", out.string()});
    EXPECT_EQ(r.exit_code, kExitUsage) << out << "\n" << Show(r);
    EXPECT_NE(r.err.find("duetc: cannot make the directory '" + out.string() + "'"),
              std::string::npos)
        << Show(r);
  }
}

TEST_F(DuetcTest, DocsWritePagesAndRemoveStaleOnes) {
  fs::path out = dir_ / "docs";
  Write("docs/old_map.md", "# a map that is gone\n");
  Write("docs/maps.svg", "<svg/>");
  Write("docs/notes.txt", "not written by duetc docs\n");
  RunResult r = Run({"docs", "--no-svg", "examples/minimal", "-o", out.string()});
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_EQ(FileNames(out),
            (std::set<std::string>{"customers.md", "index.md", "maps.dot", "notes.txt"}))
      << Show(r);
  EXPECT_NE(r.err.find("wrote 3 files to " + out.string() + "; removed maps.svg, old_map.md"),
            std::string::npos)
      << Show(r);
  std::string page = ReadAll(out / "customers.md");
  EXPECT_TRUE(page.starts_with("# Customers V3 (accounts) (`customers`)\n")) << page;
}

TEST_F(DuetcTest, DocsWithoutGraphvizExitTwoUnlessNoSvg) {
  fs::path out = dir_ / "docs";
  std::string path = std::getenv("PATH") == nullptr ? "" : std::getenv("PATH");
  setenv("PATH", (dir_ / "empty").c_str(), 1);
  RunResult without = Run({"docs", "examples/minimal", "-o", out.string()});
  RunResult no_svg = Run({"docs", "--no-svg", "examples/minimal", "-o", out.string()});
  setenv("PATH", path.c_str(), 1);
  EXPECT_EQ(without.exit_code, kExitUsage) << Show(without);
  EXPECT_NE(without.err.find("Graphviz 'dot' is not on PATH"), std::string::npos) << Show(without);
  EXPECT_NE(without.err.find("--no-svg"), std::string::npos) << Show(without);
  EXPECT_EQ(no_svg.exit_code, kExitClean) << Show(no_svg);
  EXPECT_TRUE(fs::exists(out / "index.md")) << Show(no_svg);
}

// `duetc schema`: one CREATE TABLE per table of the system, a rowid alias,
// a random default for a guid id, refs typed as their target's id, and a
// unique index on the alternate key; an unknown system names the known ones.
TEST_F(DuetcTest, SchemaPrintsOneSystemsTables) {
  RunResult ce = Run({"schema", "examples/minimal", "--system", "ce"});
  ASSERT_EQ(ce.exit_code, kExitClean) << Show(ce);
  EXPECT_EQ(Count(ce.out, "CREATE TABLE IF NOT EXISTS"), 2u) << ce.out;
  EXPECT_NE(
      ce.out.find("CREATE TABLE IF NOT EXISTS \"account\" (\n  \"RECID\" INTEGER PRIMARY KEY,"),
      std::string::npos)
      << ce.out;
  EXPECT_NE(ce.out.find("\"accountid\" TEXT NOT NULL DEFAULT (lower(hex(randomblob(4)) ||"),
            std::string::npos)
      << ce.out;
  EXPECT_NE(ce.out.find("\"msdyn_company\" TEXT,  -- ref ce.cdm_company"), std::string::npos)
      << ce.out;
  EXPECT_NE(ce.out.find("CREATE UNIQUE INDEX IF NOT EXISTS \"account_key\" ON \"account\" "
                        "(\"msdyn_company\", \"accountnumber\");"),
            std::string::npos)
      << ce.out;
  EXPECT_EQ(ce.out.find("CustCustomerV3Entity"), std::string::npos) << "only ce's tables";

  RunResult fo = Run({"schema", "examples/minimal", "--system", "fo"});
  ASSERT_EQ(fo.exit_code, kExitClean) << Show(fo);
  EXPECT_NE(fo.out.find("\"CREDITLIMIT\" TEXT,  -- decimal(32, 6)"), std::string::npos) << fo.out;

  RunResult unknown = Run({"schema", "examples/minimal", "--system", "crm"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << Show(unknown);
  EXPECT_NE(unknown.err.find("no system 'crm' in these map files (they declare: fo, ce)"),
            std::string::npos)
      << Show(unknown);
  EXPECT_TRUE(unknown.out.empty()) << Show(unknown);

  fs::path bad = Write("bad.duet", "system fo;\ntable fo.T { A nosuchtype; }\n");
  RunResult errors = Run({"schema", bad.string(), "--system", "fo"});
  EXPECT_EQ(errors.exit_code, kExitErrors) << Show(errors);
  EXPECT_TRUE(errors.out.empty()) << Show(errors);
}

// `duetc compile --maps`: the named maps, the maps that sync a table they
// write a lookup into (transitively), and only the tables those use.
// examples/payment-methods imports the standard accounts map, which brings 7
// more maps; its own map needs only legal_entities (the company lookup).
TEST_F(DuetcTest, CompileMapsKeepsTheChosenMapsWhatTheyLookUpAndTheirTables) {
  fs::path bundle = dir_ / "pm.duetb";
  RunResult compiled = Run({"compile", "examples/payment-methods", "--maps",
                            "customer_payment_methods", "-o", bundle.string()});
  ASSERT_EQ(compiled.exit_code, kExitClean) << Show(compiled);
  EXPECT_NE(compiled.err.find("maps, in initial-sync order: legal_entities, "
                              "customer_payment_methods; tables: 4\n"),
            std::string::npos)
      << Show(compiled);
  RunResult inspected = Run({"inspect", bundle.string(), "--json"});
  ASSERT_EQ(inspected.exit_code, kExitClean) << Show(inspected);
  nlohmann::json manifest;
  ASSERT_NO_THROW(manifest = nlohmann::json::parse(inspected.out)) << Show(inspected);
  std::set<std::string> maps, tables;
  for (const nlohmann::json& m : manifest["maps"]) maps.insert(m["name"].get<std::string>());
  for (const nlohmann::json& t : manifest["tables"]) tables.insert(t["name"].get<std::string>());
  EXPECT_EQ(maps, (std::set<std::string>{"customer_payment_methods", "legal_entities"}));
  EXPECT_EQ(tables, (std::set<std::string>{"ce.cdm_company", "ce.msdyn_customerpaymentmethod",
                                           "fo.CustomerPaymentMethodEntity", "fo.OMLegalEntity"}));
  EXPECT_EQ(manifest["initial_sync_order"],
            (nlohmann::json{"legal_entities", "customer_payment_methods"}));

  // The accounts map writes a payment-method lookup, so naming it brings
  // the project's map along, with everything else it looks up.
  RunResult accounts = Run({"compile", "examples/payment-methods", "--maps", "customers_accounts",
                            "-o", bundle.string()});
  ASSERT_EQ(accounts.exit_code, kExitClean) << Show(accounts);
  EXPECT_NE(accounts.err.find("8 maps"), std::string::npos) << Show(accounts);

  RunResult unknown = Run(
      {"compile", "examples/payment-methods", "--maps", "nope", "-o", (dir_ / "x.duetb").string()});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << Show(unknown);
  EXPECT_NE(unknown.err.find("no map 'nope' in these map files (they have: currencies, "),
            std::string::npos)
      << Show(unknown);
  EXPECT_FALSE(fs::exists(dir_ / "x.duetb"));
}

// The committed docs of the standard maps (docs/stdlib) are what `duetc
// docs` makes of them today, byte for byte and file for file.
TEST_F(DuetcTest, StandardMapDocsAreUpToDate) {
  constexpr const char* kRegenerate = "build/compiler/driver/duetc docs stdlib-maps -o docs/stdlib";
  fs::path out = dir_ / "stdlib";
  RunResult r = Run({"docs", "stdlib-maps", "-o", out.string()});
  ASSERT_EQ(r.exit_code, kExitClean) << Show(r);
  fs::path committed = fs::path(g_repo_root) / "docs" / "stdlib";
  ASSERT_TRUE(fs::is_directory(committed)) << committed << " is missing; run " << kRegenerate;
  std::set<std::string> generated = FileNames(out);
  std::set<std::string> present = FileNames(committed);
  for (const std::string& name : generated) {
    if (!present.contains(name)) {
      ADD_FAILURE() << "docs/stdlib/" << name << " is missing; run " << kRegenerate;
    } else if (ReadAll(out / name) != ReadAll(committed / name)) {
      ADD_FAILURE() << "docs/stdlib/" << name << " is out of date; run " << kRegenerate;
    }
  }
  for (const std::string& name : present) {
    EXPECT_TRUE(generated.contains(name))
        << "docs/stdlib/" << name << " is not generated any more; run " << kRegenerate;
  }
}

// ---- the repository's own maps ----

bool HasMapFiles(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".duet") return true;
  }
  return false;
}

// Each example is a module of its own (the files named on one command line
// share one namespace); the standard maps are one module too. Every one of
// them must check clean, warnings included, and pass its map tests.
std::vector<std::string> Modules() {
  std::vector<std::string> modules = {"stdlib-maps"};
  std::vector<std::string> examples;
  for (const auto& entry : fs::directory_iterator(fs::path(g_repo_root) / "examples")) {
    // Examples without map files (the quickstart uses the standard maps) are not modules.
    if (entry.is_directory() && HasMapFiles(entry.path())) {
      examples.push_back("examples/" + entry.path().filename().string());
    }
  }
  std::sort(examples.begin(), examples.end());
  modules.insert(modules.end(), examples.begin(), examples.end());
  return modules;
}

TEST_F(DuetcTest, StandardMapsAndExamplesCheckClean) {
  std::vector<std::string> modules = Modules();
  ASSERT_GE(modules.size(), 3u);
  for (const std::string& module : modules) {
    RunResult r = Run({"check", "--werror", module});
    EXPECT_EQ(r.exit_code, kExitClean) << module << "\n" << Show(r);
    EXPECT_EQ(r.err.find("error["), std::string::npos) << Show(r);
    EXPECT_NE(r.err.find("checked "), std::string::npos) << Show(r);
  }
}

TEST_F(DuetcTest, StandardMapsAndExamplesPassTheirTests) {
  for (const std::string& module : Modules()) {
    RunResult r = Run({"test", module});
    EXPECT_EQ(r.exit_code, kExitClean) << module << "\n" << Show(r);
    EXPECT_NE(r.out.find(" passed, 0 failed"), std::string::npos) << Show(r);
  }
}

}  // namespace
}  // namespace duet::cli

// Takes --duetc=PATH and --repo-root=PATH after gtest has removed its own
// flags; the environment variables DUETC and DUET_REPO_ROOT are fallbacks.
int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (const char* env = std::getenv("DUETC")) duet::cli::g_duetc = env;
  if (const char* env = std::getenv("DUET_REPO_ROOT")) duet::cli::g_repo_root = env;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--duetc=")) {
      duet::cli::g_duetc = std::string(arg.substr(8));
    } else if (arg.starts_with("--repo-root=")) {
      duet::cli::g_repo_root = std::string(arg.substr(12));
    } else {
      std::cerr << "cli_test: unknown argument " << arg << "\n";
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
