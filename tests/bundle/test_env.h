// Shared by the bundle tests: where the binaries and the repository are,
// running a binary as a separate process, temporary directories, files, and
// compiling map files into bundle bytes in-process.
#ifndef DUET_TESTS_BUNDLE_TEST_ENV_H_
#define DUET_TESTS_BUNDLE_TEST_ENV_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bundle/bundle_file.h"

namespace duet::bundle_test {

namespace fs = std::filesystem;

// Set by main() from --duetc=, --duet=, --repo-root= (or DUETC, DUET,
// DUET_REPO_ROOT).
struct Env {
  std::string duetc;
  std::string duet;
  std::string repo_root;
};
Env& GlobalEnv();

constexpr int kExitClean = 0;
constexpr int kExitRowErrors = 1;
constexpr int kExitUsage = 2;

struct RunResult {
  bool exited = false;  // false: killed by a signal (a crash)
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Everything worth printing about a run when an assertion on it fails.
std::string Show(const RunResult& r);

std::string ReadAll(const fs::path& path);
void WriteAll(const fs::path& path, std::string_view bytes);

// A fresh temporary directory per test, removed afterwards, and helpers to
// run duetc and duet in it.
class ProcessTest : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs `binary` with `args` in `cwd` (the repository root by default),
  // `stdin_text` on standard input and both output streams captured
  // through files, so a large output cannot block the child on a pipe.
  RunResult Run(const std::string& binary, const std::vector<std::string>& args,
                std::string_view stdin_text = "", const fs::path& cwd = {});
  RunResult Duetc(const std::vector<std::string>& args) { return Run(GlobalEnv().duetc, args); }
  RunResult Duet(const std::vector<std::string>& args, std::string_view stdin_text = "") {
    return Run(GlobalEnv().duet, args, stdin_text);
  }

  // Compiles `paths` (relative to the repository root) with duetc into
  // dir_/name and returns the path; fails the test if duetc does.
  fs::path CompileWithDuetc(const std::vector<std::string>& paths, const std::string& name,
                            const std::vector<std::string>& extra_args = {});

  fs::path Write(const std::string& name, std::string_view bytes);

  fs::path dir_;
};

// Compiles `paths` in-process with bundler::Build, as duetc does: paths are
// relative to the working directory, which main() sets to the repository
// root, so the manifest names the sources as a duetc run there would. Fails
// the test (and returns empty contents) if the maps have errors or code
// generation fails.
bundle::Contents BuildContents(const std::vector<std::string>& paths, bool include_object = true);

// Little-endian field access, as bundle::Serialize writes the header and
// the section table.
uint32_t GetU32(std::string_view bytes, size_t at);
uint64_t GetU64(std::string_view bytes, size_t at);
void PutU32(std::string& bytes, size_t at, uint32_t v);
void PutU64(std::string& bytes, size_t at, uint64_t v);

// The layout of an unsigned or signed bundle, read from its header.
struct Layout {
  static constexpr size_t kHeaderSize = 32;
  static constexpr size_t kSectionEntrySize = 24;
  static constexpr size_t kDigestSize = 32;
  static constexpr size_t kSignatureBlockSize = 8 + 32 + 64;

  struct Section {
    uint32_t kind;
    uint64_t offset;
    uint64_t size;
  };
  uint32_t version = 0;
  uint32_t count = 0;
  uint64_t content_length = 0;  // header + table + sections; the digest follows
  std::vector<Section> sections;
  bool is_signed = false;

  static Layout Of(std::string_view bytes);
};

// Recomputes the SHA-256 digest over the content, in place, as a writer
// would; a signature block after it is kept (and no longer verifies).
void RewriteDigest(std::string& bytes);

// Keys as text, as `duetc keygen` writes them.
struct TextKeys {
  std::string public_text;
  std::string secret_text;
};
TextKeys NewTextKeys();

}  // namespace duet::bundle_test

#endif  // DUET_TESTS_BUNDLE_TEST_ENV_H_
