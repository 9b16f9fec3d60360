// Every map shipped in the tree (stdlib-maps/, examples/): each transform
// run on random rows through the interpreter and the JIT, which must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tests/differential/harness.h"

namespace duet::differential {
namespace {

constexpr int kRowsPerTransform = 1000;

bool HasMapFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return false;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".duet") return true;
  }
  return false;
}

// Compiles `path` (a directory or a file) as one module and sweeps it.
void SweepPath(const std::filesystem::path& path, const std::string& label, uint64_t stream) {
  SCOPED_TRACE(label);
  auto start = std::chrono::steady_clock::now();
  Compiled c = CompilePaths({path.string()});
  ASSERT_TRUE(c.problem.empty()) << label << ": " << c.problem;
  ASSERT_FALSE(c.module->transforms.empty()) << label << " has no transforms";
  SweepResult r = Sweep(c, kRowsPerTransform, StreamSeed(stream),
                        [&](size_t) { return "  maps: " + path.string() + "\n"; });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::cout << "[ diff     ] " << label << ": " << c.module->transforms.size() << " transforms, "
            << r.cases << " rows compared in " << ms << " ms (DUET_DIFF_SEED=" << Seed() << "); "
            << r.stats.ToString() << "\n";
  EXPECT_EQ(r.mismatches, 0) << r.mismatches
                             << " rows differ between the interpreter and the JIT:\n"
                             << r.report;
}

// The standard maps are one module: every file joins one set of names.
TEST(ShippedMaps, StdlibMapsAgreeOnRandomRows) {
  std::filesystem::path dir = std::filesystem::path(DUET_SOURCE_DIR) / "stdlib-maps";
  ASSERT_TRUE(HasMapFiles(dir)) << dir << " has no .duet files: nothing would be compared";
  SweepPath(dir, "stdlib-maps", 1);
}

// Each example stands alone (two examples may declare the same systems), so
// each subdirectory of examples/, and each file directly in it, is a module.
TEST(ShippedMaps, ExamplesAgreeOnRandomRows) {
  std::filesystem::path dir = std::filesystem::path(DUET_SOURCE_DIR) / "examples";
  ASSERT_TRUE(HasMapFiles(dir)) << dir << " has no .duet files: nothing would be compared";
  std::vector<std::filesystem::path> modules;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_directory() ? HasMapFiles(entry.path()) : entry.path().extension() == ".duet") {
      modules.push_back(entry.path());
    }
  }
  std::sort(modules.begin(), modules.end());
  ASSERT_FALSE(modules.empty()) << dir << " holds no example module";
  for (size_t i = 0; i < modules.size(); ++i) {
    SweepPath(modules[i], "examples/" + modules[i].filename().string(), 2 + i);
  }
}

}  // namespace
}  // namespace duet::differential
