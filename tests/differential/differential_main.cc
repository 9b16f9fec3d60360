// The differential tests' main: prints the seed before and the number of
// compared cases after the run, so every log says how to reproduce it and how
// much it covered.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "tests/differential/harness.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // Listing (gtest_discover_tests) must print nothing but the test list.
  bool listing = GTEST_FLAG_GET(list_tests);
  if (!listing) std::cout << "[ diff     ] DUET_DIFF_SEED=" << duet::differential::Seed() << "\n";
  auto start = std::chrono::steady_clock::now();
  int status = RUN_ALL_TESTS();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  if (!listing) {
    std::cout << "[ diff     ] " << duet::differential::CasesCompared()
              << " cases compared between interpreter and JIT in " << ms
              << " ms (DUET_DIFF_SEED=" << duet::differential::Seed() << ")\n";
  }
  return status;
}
