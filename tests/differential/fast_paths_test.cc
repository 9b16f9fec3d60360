// The inline fast paths of generated code (compiler/codegen/codegen.cc) on
// the edges where they hand over to the helpers: decimals around 64 bits and
// 2^53, rescales that round half away from zero, precision limits, and
// strings compared with constants of every word length. Each expression runs
// on every combination of the edge values of the inputs it reads, through
// the interpreter and the JIT (optimised and not); the engines must agree.
//
// Inputs are columns of the source table of map_generator.h: i1 i2 int,
// d1 decimal(18, 4), d2 decimal(38, 10), s1 s2 string.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <limits>
#include <string>
#include <vector>

#include "runtime/value/ops.h"
#include "tests/differential/harness.h"
#include "tests/differential/map_generator.h"

namespace duet::differential {
namespace {

using ir::Kind;
using ir::Value;
using value::int128;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

Value Dec(int128 unscaled, int scale) { return Value::Decimal(unscaled, scale); }

// Unscaled values around the edges of the fast paths: 0, rounding digits
// (5 and 49 at the end), 2^53, 2^63 and beyond, 10^18.
std::vector<int128> EdgeUnscaled(bool wide) {
  std::vector<int128> magnitudes = {0,
                                    1,
                                    49,
                                    50,
                                    51,
                                    149,
                                    150,
                                    12345678,
                                    (int128{1} << 53) - 1,
                                    int128{1} << 53,
                                    (int128{1} << 53) + 1,
                                    999999999999999999,  // 10^18 - 1
                                    value::Pow10(17) + 5};
  if (wide) {
    magnitudes.insert(
        magnitudes.end(),
        {int128{kMax} - 1, int128{kMax}, int128{kMax} + 1, int128{kMax} + 2, value::Pow10(19) - 5,
         value::Pow10(19) + 5, value::Pow10(27) + 1, value::Pow10(38) - 1});
  }
  std::vector<int128> out;
  for (int128 m : magnitudes) {
    out.push_back(m);
    if (m != 0) out.push_back(-m);
  }
  return out;
}

std::vector<Value> EdgeValues(const std::string& column) {
  std::vector<Value> values = {Value::Null(column[0] == 'i'   ? Kind::kInt
                                           : column[0] == 'd' ? Kind::kDecimal
                                                              : Kind::kString)};
  if (column == "i1" || column == "i2") {
    for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{7}, int64_t{-50},
                      int64_t{999999999}, int64_t{1} << 53, kMax, kMin, kMin + 1}) {
      values.push_back(Value::Int(i));
    }
  } else if (column == "d1") {
    for (int128 v : EdgeUnscaled(false)) values.push_back(Dec(v, 4));
  } else if (column == "d2") {
    for (int128 v : EdgeUnscaled(true)) values.push_back(Dec(v, 10));
  } else {
    for (const char* s :
         {"", "a", "b", "ab", "abc", "abd", "abcd", "abcdefg", "abcdefgh", "abcdefgi", "Abcdefgh",
          "abcdefghi", "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnoq", "\xc3\xa9",
          "\xc3\xa8", "0123456789012345678901234567890123456789012345678901234567890123456789",
          "0123456789012345678901234567890123456789012345678901234567890123456780"}) {
      values.push_back(Value::String(s));
    }
  }
  return values;
}

struct Sweep {
  std::string expr;
  std::string column;             // the target column's type
  std::vector<std::string> uses;  // the inputs the expression reads (1 or 2)
  std::string options = "";       // " values { ... }"
};

const char* kLong70 = "0123456789012345678901234567890123456789012345678901234567890123456789";

std::vector<Sweep> Sweeps() {
  std::string string_map = fmt::format(
      " values {{ \"\" = 0, \"a\" = 1, \"abc\" = 3, \"abcd\" = 4, \"abcdefgh\" = 8, "
      "\"abcdefghi\" = 9, \"abcdefghijklmnop\" = 16, \"\xc3\xa9\" = 2, \"{}\" = 70, * = -1 }}",
      kLong70);
  return {
      // Rescales: down with rounding, up, to a precision that may not hold.
      {"d1", "decimal(19, 2)", {"d1"}},
      {"d1", "decimal(18, 0)", {"d1"}},
      {"d1", "decimal(9, 3)", {"d1"}},
      {"d1", "decimal(38, 12)", {"d1"}},
      {"d1", "decimal(22, 8)", {"d1"}},
      {"d2", "decimal(19, 4)", {"d2"}},
      {"d2", "decimal(38, 0)", {"d2"}},
      {"d2", "decimal(20, 9)", {"d2"}},
      {"d2", "decimal(38, 30)", {"d2"}},
      {"d2", "decimal(38, 11)", {"d2"}},
      {"i1", "decimal(19, 0)", {"i1"}},
      {"i1", "decimal(38, 6)", {"i1"}},
      {"i1", "decimal(12, 2)", {"i1"}},
      // To float: exact below 2^53, through text above.
      {"d1", "float", {"d1"}},
      {"d2", "float", {"d2"}},
      {"to_float(d2)", "float", {"d2"}},
      {"to_float(d1) + 0.0", "float", {"d1"}},
      // Comparisons at equal and different scales.
      {"d1 < d2", "bool", {"d1", "d2"}},
      {"d1 == d2", "bool", {"d1", "d2"}},
      {"d2 >= d1", "bool", {"d1", "d2"}},
      {"d2 != 0.5", "bool", {"d2"}},
      {"d1 > 1.5", "bool", {"d1"}},
      {"i1 == d1", "bool", {"i1", "d1"}},
      {"d2 < i1", "bool", {"i1", "d2"}},
      // Arithmetic: exact +, -, * of 64-bit operands, and the overflows.
      {"d1 + d2", "decimal(38, 10)", {"d1", "d2"}},
      {"d1 - d2", "decimal(38, 10)", {"d1", "d2"}},
      {"d2 - d1", "decimal(20, 10)", {"d1", "d2"}},
      {"d1 + d1", "decimal(19, 4)", {"d1"}},
      {"d1 * d1", "decimal(36, 8)", {"d1"}},
      {"d1 * d2", "decimal(38, 14)", {"d1", "d2"}},
      {"d2 * d2", "decimal(38, 20)", {"d2"}},
      {"d1 * i1", "decimal(37, 4)", {"d1", "i1"}},
      {"d1 + i1", "decimal(24, 4)", {"d1", "i1"}},
      {"i1 - d2", "decimal(38, 10)", {"i1", "d2"}},
      {"d1 * 2.5", "decimal(21, 5)", {"d1"}},
      // Strings against constants of 0 to 70 bytes, and against each other.
      {"s1 == \"abcdefgh\"", "bool", {"s1"}},
      {"\"abc\" == s1", "bool", {"s1"}},
      {"s1 != \"abcdefghijklmnop\"", "bool", {"s1"}},
      {"s1 == \"\"", "bool", {"s1"}},
      {fmt::format("s1 == \"{}\"", kLong70), "bool", {"s1"}},
      {"s1 in (\"a\", \"abcdefghi\", \"\xc3\xa9\")", "bool", {"s1"}},
      {"s1 == s2", "bool", {"s1", "s2"}},
      {"s1 != s2", "bool", {"s1", "s2"}},
      {"s1 < s2", "bool", {"s1", "s2"}},
      {"s1", "int", {"s1"}, string_map},
  };
}

std::string SourceOf(const std::vector<Sweep>& sweeps) {
  std::string text = SourceDeclarations();
  for (size_t i = 0; i < sweeps.size(); ++i) {
    const Sweep& s = sweeps[i];
    text +=
        fmt::format("\ntable b.U{} {{\n  k int not null;\n  v {};\n  key (k);\n}}\n", i, s.column);
    text += fmt::format("map m{}: a.T -> b.U{} {{\n  {} -> v{};\n  rid -> k;\n}}\n", i, i, s.expr,
                        s.options);
  }
  return text;
}

void RunSweeps(int opt_level) {
  std::vector<Sweep> sweeps = Sweeps();
  std::string text = SourceOf(sweeps);
  codegen::Options options;
  options.opt_level = opt_level;
  Compiled c = CompileSource("fast_paths.duet", text, options);
  ASSERT_TRUE(c.problem.empty()) << c.problem << "\n---- source ----\n" << text;
  int64_t compared = 0;
  for (size_t i = 0; i < sweeps.size(); ++i) {
    const Sweep& s = sweeps[i];
    std::string map = fmt::format("m{}", i);
    size_t index = 0;
    while (index < c.module->transforms.size() && c.module->transforms[index].map != map) ++index;
    ASSERT_LT(index, c.module->transforms.size()) << "no transform for " << map;
    const ir::Transform& t = c.module->transforms[index];
    std::vector<std::vector<Value>> choices;
    for (const std::string& use : s.uses) choices.push_back(EdgeValues(use));
    // Every combination of the inputs' edge values.
    std::vector<size_t> at(choices.size(), 0);
    while (true) {
      std::vector<Value> row;
      for (const ir::InputSlot& slot : t.inputs) {
        Value v = slot.Name() == "rid" ? Value::Int(1) : Value::Null(slot.type.kind);
        for (size_t u = 0; u < s.uses.size(); ++u) {
          if (slot.Name() == s.uses[u]) v = choices[u][at[u]];
        }
        row.push_back(v);
      }
      std::optional<std::string> difference = RunBoth(c, index, row);
      ++compared;
      ASSERT_FALSE(difference) << "interpreter and JIT (O" << opt_level << ") disagree on `"
                               << s.expr << "` -> " << s.column << s.options << ", inputs:\n"
                               << FormatRow(t, row) << "  " << *difference;
      size_t u = 0;
      while (u < at.size() && ++at[u] == choices[u].size()) at[u++] = 0;
      if (u == at.size()) break;
    }
  }
  EXPECT_GT(compared, 5000);
}

TEST(FastPaths, EnginesAgreeOnEdgesOptimised) { RunSweeps(2); }
TEST(FastPaths, EnginesAgreeOnEdgesUnoptimised) { RunSweeps(0); }

}  // namespace
}  // namespace duet::differential
