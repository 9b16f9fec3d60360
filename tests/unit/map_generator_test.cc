// The benchmark's map generator (bench/map_generator.h) must produce files
// that check clean with the exact number of lines asked for; check_bench
// aborts otherwise, and this test says so before anyone runs a benchmark.
#include "bench/map_generator.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"

namespace duet::bench {
namespace {

TEST(MapGenerator, FilesHaveTheLinesAskedForAndCheckClean) {
  for (size_t lines : {kMinGeneratedLines, size_t{1000}, size_t{10'000}}) {
    std::string text = GenerateMapFile(lines);
    EXPECT_EQ(CountLines(text), lines);
    EXPECT_EQ(text.back(), '\n');
    std::unique_ptr<frontend::Result> result =
        frontend::CheckSource("generated.duet", text, frontend::Options{});
    EXPECT_TRUE(result->diagnostics.all().empty())
        << lines << " lines:\n"
        << diag::RenderText(result->diagnostics, result->sources, diag::RenderOptions{});
    ASSERT_TRUE(result->checked.has_value());
    EXPECT_FALSE(result->checked->maps.empty());
    EXPECT_FALSE(result->checked->tests.empty());
  }
}

TEST(MapGenerator, IsDeterministic) { EXPECT_EQ(GenerateMapFile(2000), GenerateMapFile(2000)); }

TEST(MapGenerator, RefusesSizesBelowOneGroup) {
  EXPECT_THROW(GenerateMapFile(kMinGeneratedLines - 1), std::invalid_argument);
}

TEST(CountLines, CountsALastLineWithoutNewline) {
  EXPECT_EQ(CountLines(""), 0u);
  EXPECT_EQ(CountLines("a"), 1u);
  EXPECT_EQ(CountLines("a\n"), 1u);
  EXPECT_EQ(CountLines("a\nb"), 2u);
  EXPECT_EQ(CountLines("\n\n"), 2u);
}

}  // namespace
}  // namespace duet::bench
