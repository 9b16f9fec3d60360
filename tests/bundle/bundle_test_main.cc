// main() of bundle_test: takes --duetc=PATH, --duet=PATH and
// --repo-root=PATH after gtest has removed its own flags; the environment
// variables DUETC, DUET and DUET_REPO_ROOT are fallbacks.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "tests/bundle/test_env.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  duet::bundle_test::Env& env = duet::bundle_test::GlobalEnv();
  if (const char* v = std::getenv("DUETC")) env.duetc = v;
  if (const char* v = std::getenv("DUET")) env.duet = v;
  if (const char* v = std::getenv("DUET_REPO_ROOT")) env.repo_root = v;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--duetc=")) {
      env.duetc = std::string(arg.substr(8));
    } else if (arg.starts_with("--duet=")) {
      env.duet = std::string(arg.substr(7));
    } else if (arg.starts_with("--repo-root=")) {
      env.repo_root = std::string(arg.substr(12));
    } else {
      std::cerr << "bundle_test: unknown argument " << arg << "\n";
      return 2;
    }
  }
  // In-process compiles name their sources relative to the root, as duetc
  // run from the root does, so both give the same bytes.
  if (!env.repo_root.empty()) {
    std::error_code ec;
    std::filesystem::current_path(env.repo_root, ec);
    if (ec) {
      std::cerr << "bundle_test: cannot change to " << env.repo_root << ": " << ec.message()
                << "\n";
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
