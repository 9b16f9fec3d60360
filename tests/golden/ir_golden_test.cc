// Golden tests of lowering. Every map file tests/golden/ir/NAME.duet is
// checked in-process through frontend::CheckPaths (from the repository
// root, as `duetc dump --ir` runs) and lowered; ir::Dump of the module must
// equal NAME.ir byte for byte. DUET_UPDATE_GOLDENS=1 rewrites the .ir files
// instead (the same update mode as golden_test; see README.md).
//
// A case must check without errors; in update mode too, so a broken case
// can never bless an empty or partial dump. Warnings fail the case as well
// unless a leading comment line allows their codes:
//   // ir-golden: allow W0104
//
// Besides the dumps, the suite checks that the cases together use every IR
// operation, every builtin, the casts and value-map shapes lowering makes,
// lookups on both sides and the output flags; and it verifies structural
// invariants of the lowered IR (operand order, single users, types of
// operands, the casts the IR allows) on the cases, the standard maps and the
// examples, so a lowering bug shows up as a named violation and not only as
// a changed dump.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/lower.h"
#include "tests/golden/line_diff.h"

#ifndef DUET_REPO_ROOT
#error "DUET_REPO_ROOT must name the repository root (set by tests/golden/CMakeLists.txt)"
#endif

namespace duet::golden {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIrDir = "tests/golden/ir";
constexpr std::string_view kUpdateCommand =
    "DUET_UPDATE_GOLDENS=1 ctest --test-dir build -R golden";
constexpr std::string_view kDirectivePrefix = "// ir-golden:";

fs::path RepoRoot() { return fs::path(DUET_REPO_ROOT); }

bool UpdateMode() {
  const char* value = std::getenv("DUET_UPDATE_GOLDENS");
  return value != nullptr && std::string_view(value) == "1";
}

struct IrCase {
  std::string name;   // "value_maps"
  std::string input;  // "tests/golden/ir/value_maps.duet", relative to the root

  std::string expected() const { return std::string(kIrDir) + "/" + name + ".ir"; }
};

void PrintTo(const IrCase& c, std::ostream* os) { *os << c.input; }

// Every NAME.duet under tests/golden/ir, sorted. Reads the directory through
// the absolute root: gtest may call this before main() changes directory.
std::vector<IrCase> DiscoverCases() {
  std::vector<IrCase> cases;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(RepoRoot() / kIrDir, ec)) {
    const fs::path& path = entry.path();
    if (entry.is_regular_file() && path.extension() == ".duet") {
      cases.push_back({path.stem().string(), std::string(kIrDir) + "/" + path.filename().string()});
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const IrCase& a, const IrCase& b) { return a.name < b.name; });
  return cases;
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The warning codes a case allows: "// ir-golden: allow W0104 W0100" on a
// comment line before the first line that is not a comment. Unknown words
// fail the case.
std::set<std::string> AllowedWarnings(const IrCase& c) {
  std::set<std::string> allowed;
  std::optional<std::string> text = ReadFile(c.input);
  if (!text) return allowed;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line) && line.starts_with("//")) {
    if (!line.starts_with(kDirectivePrefix)) continue;
    std::istringstream words(line.substr(kDirectivePrefix.size()));
    std::string word;
    words >> word;
    if (word != "allow") {
      ADD_FAILURE() << c.input << ": unknown ir-golden directive '" << word
                    << "' (known: allow CODE...)";
      continue;
    }
    while (words >> word) {
      if (word.size() != 5 || word[0] != 'W') {
        ADD_FAILURE() << c.input << ": 'allow' takes warning codes (W0104), not '" << word << "'";
      }
      allowed.insert(word);
    }
  }
  return allowed;
}

// Checks and lowers `paths` as `duetc dump --ir` does. Fails the test (and
// returns nullopt) when the maps have errors, printing the diagnostics.
struct Lowered {
  std::unique_ptr<frontend::Result> result;
  ir::Module module;
};

std::optional<Lowered> CheckAndLower(const std::vector<std::string>& paths, std::string* rendered) {
  Lowered out;
  out.result = frontend::CheckPaths(paths, frontend::Options{});
  if (out.result == nullptr) {
    ADD_FAILURE() << "CheckPaths returned nothing";
    return std::nullopt;
  }
  diag::RenderOptions render;
  render.max_diagnostics = 0;
  *rendered = diag::RenderText(out.result->diagnostics, out.result->sources, render);
  if (!out.result->ok() || !out.result->checked) return std::nullopt;
  out.module = ir::Lower(*out.result->checked);
  return out;
}

class IrGoldenTest : public testing::TestWithParam<IrCase> {};

TEST_P(IrGoldenTest, Lower) {
  const IrCase& c = GetParam();
  std::set<std::string> allowed = AllowedWarnings(c);
  std::string diagnostics;
  std::optional<Lowered> lowered = CheckAndLower({c.input}, &diagnostics);
  // Before update mode can write anything: a case that does not check has
  // no IR to pin.
  ASSERT_TRUE(lowered.has_value())
      << c.input << " does not check, so it cannot be lowered. Fix the map file; "
      << "nothing was written.\n"
      << diagnostics;
  std::vector<std::string> unexpected;
  for (const diag::Diagnostic& d : lowered->result->diagnostics.all()) {
    if (!allowed.contains(std::string(d.code()))) unexpected.emplace_back(d.code());
  }
  EXPECT_TRUE(unexpected.empty())
      << c.input << " reports " << testing::PrintToString(unexpected)
      << ", which it does not allow (add '// ir-golden: allow CODE' at the top if the "
      << "warning is the point of the case):\n"
      << diagnostics;
  ASSERT_FALSE(lowered->module.transforms.empty()) << c.input << " has no transform to pin";

  std::string actual = ir::Dump(lowered->module);
  const std::string path = c.expected();
  if (UpdateMode()) {
    std::optional<std::string> old = ReadFile(path);
    if (!old || *old != actual) {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << actual;
      ASSERT_TRUE(out.good()) << "cannot write " << path;
      std::cout << "[ UPDATED  ] " << path << "\n";
    }
    return;
  }
  std::optional<std::string> expected = ReadFile(path);
  if (!expected) {
    FAIL() << path
           << " does not exist. Review the IR below; if it is right, create the file with\n  "
           << kUpdateCommand << "\n--- actual IR ---\n"
           << actual;
  }
  if (*expected == actual) return;
  ADD_FAILURE() << "the IR of " << c.input << " differs from " << path << ":\n"
                << UnifiedDiff(*expected, actual, path, "actual IR")
                << "\nIf the new IR is right, run:\n  " << kUpdateCommand
                << "\nand review the change to " << path << " before committing it.";
}

std::string CaseName(const testing::TestParamInfo<IrCase>& info) {
  std::string name = info.param.name;
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Ir, IrGoldenTest, testing::ValuesIn(DiscoverCases()), CaseName);

TEST(IrGoldenSuite, NoOrphanIrFiles) {
  std::set<std::string> names;
  for (const IrCase& c : DiscoverCases()) names.insert(c.name);
  std::vector<std::string> orphans;
  for (const fs::directory_entry& entry : fs::directory_iterator(kIrDir)) {
    if (entry.path().extension() == ".ir" && !names.contains(entry.path().stem().string())) {
      orphans.push_back(entry.path().filename().string());
    }
  }
  EXPECT_TRUE(orphans.empty()) << ".ir files without a .duet case: "
                               << testing::PrintToString(orphans);
}

// ---- structural invariants of lowered IR ----

bool IsComparison(ir::Op op) {
  return op == ir::Op::kEq || op == ir::Op::kNe || op == ir::Op::kLt || op == ir::Op::kLe ||
         op == ir::Op::kGt || op == ir::Op::kGe;
}

bool IsArithmetic(ir::Op op) {
  return op == ir::Op::kAdd || op == ir::Op::kSub || op == ir::Op::kMul || op == ir::Op::kDiv ||
         op == ir::Op::kMod;
}

// The conversions ir.h allows a kCast to make.
bool AllowedCast(const ir::Type& from, const ir::Type& to) {
  using ir::Kind;
  switch (from.kind) {
    case Kind::kInt:
      return to.kind == Kind::kDecimal || to.kind == Kind::kFloat;
    case Kind::kDecimal:
      return to.kind == Kind::kDecimal || to.kind == Kind::kFloat || to.kind == Kind::kInt;
    case Kind::kFloat:
      return to.kind == Kind::kDecimal;
    case Kind::kDate:
      return to.kind == Kind::kDateTime;
    default:
      return false;
  }
}

// Equal but for string lengths (checked when stored, not by operations).
bool SameShape(const ir::Type& a, const ir::Type& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == ir::Kind::kDecimal) return a.scale == b.scale;
  return true;
}

// Everything wrong with `t`, one line each.
std::vector<std::string> Violations(const ir::Transform& t) {
  std::vector<std::string> out;
  auto bad = [&](size_t i, const std::string& what) {
    out.push_back(t.SymbolName() + ": %" + std::to_string(i) + " " + what);
  };
  std::vector<int> users(t.nodes.size(), 0);
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const ir::Node& n = t.nodes[i];
    bool operands_ok = true;
    for (int a : n.args) {
      if (a < 0 || static_cast<size_t>(a) >= i) {
        bad(i, "uses %" + std::to_string(a) + ", which is not an earlier node");
        operands_ok = false;
      } else {
        ++users[static_cast<size_t>(a)];
      }
    }
    if (!operands_ok) continue;
    auto arg = [&](size_t k) -> const ir::Node& { return t.nodes[static_cast<size_t>(n.args[k])]; };
    auto arity = [&](size_t want) {
      if (n.args.size() != want)
        bad(i,
            std::string(ir::OpName(n.op)) + " with " + std::to_string(n.args.size()) + " operands");
      return n.args.size() == want;
    };
    switch (n.op) {
      case ir::Op::kConst:
        if (!n.args.empty()) bad(i, "const with operands");
        if (n.constant.kind != n.type.kind) bad(i, "const value of another kind than its type");
        if (!n.constant.is_null && n.type.kind == ir::Kind::kDecimal &&
            n.constant.scale != n.type.scale) {
          bad(i, "decimal const with scale " + std::to_string(n.constant.scale) + " typed " +
                     n.type.ToString());
        }
        break;
      case ir::Op::kInput:
        if (n.slot < 0 || static_cast<size_t>(n.slot) >= t.inputs.size()) {
          bad(i, "reads no input slot");
        } else if (!(t.inputs[static_cast<size_t>(n.slot)].type == n.type)) {
          bad(i, "input typed " + n.type.ToString() + " but its slot is " +
                     t.inputs[static_cast<size_t>(n.slot)].type.ToString());
        }
        break;
      case ir::Op::kNeg:
        if (arity(1) && !SameShape(arg(0).type, n.type)) bad(i, "neg changes the type");
        break;
      case ir::Op::kNot:
        if (arity(1) && (n.type.kind != ir::Kind::kBool || arg(0).type.kind != ir::Kind::kBool))
          bad(i, "not of a non-bool");
        break;
      case ir::Op::kAnd:
      case ir::Op::kOr:
        if (arity(2) && (n.type.kind != ir::Kind::kBool || arg(0).type.kind != ir::Kind::kBool ||
                         arg(1).type.kind != ir::Kind::kBool)) {
          bad(i, "and/or of a non-bool");
        }
        break;
      case ir::Op::kIsNull:
      case ir::Op::kIsNotNull:
        if (arity(1) && n.type.kind != ir::Kind::kBool) bad(i, "null test not typed bool");
        break;
      case ir::Op::kIf:
        if (arity(3)) {
          if (arg(0).type.kind != ir::Kind::kBool) bad(i, "if condition not bool");
          if (!SameShape(arg(1).type, n.type) || !SameShape(arg(2).type, n.type)) {
            bad(i, "if branches " + arg(1).type.ToString() + ", " + arg(2).type.ToString() +
                       " for " + n.type.ToString());
          }
        }
        break;
      case ir::Op::kCoalesce:
        if (n.args.size() < 2) bad(i, "coalesce with fewer than two operands");
        for (size_t k = 0; k < n.args.size(); ++k) {
          if (!SameShape(arg(k).type, n.type))
            bad(i, "coalesce operand " + std::to_string(k) + " is " + arg(k).type.ToString());
        }
        break;
      case ir::Op::kIn:
        if (n.args.size() < 2) bad(i, "in without candidates");
        if (n.type.kind != ir::Kind::kBool) bad(i, "in not typed bool");
        for (size_t k = 1; k < n.args.size(); ++k) {
          if (!SameShape(arg(k).type, arg(0).type)) {
            bad(i, "in candidate " + std::to_string(k) + " is " + arg(k).type.ToString() +
                       ", operand " + arg(0).type.ToString());
          }
        }
        break;
      case ir::Op::kCast:
        if (arity(1)) {
          if (!AllowedCast(arg(0).type, n.type)) {
            bad(i, "cast " + arg(0).type.ToString() + " -> " + n.type.ToString() +
                       " is not a conversion the IR has");
          }
          if (SameShape(arg(0).type, n.type))
            bad(i,
                "cast " + arg(0).type.ToString() + " -> " + n.type.ToString() + " changes nothing");
        }
        break;
      case ir::Op::kCall:
        break;
      case ir::Op::kValueMap:
        if (n.value_map < 0 || static_cast<size_t>(n.value_map) >= t.value_maps.size()) {
          bad(i, "uses no value map");
        } else if (arity(1)) {
          const ir::ValueMapTable& v = t.value_maps[static_cast<size_t>(n.value_map)];
          if (!(arg(0).type == v.from))
            bad(i, "value map keyed by " + v.from.ToString() + " reads " + arg(0).type.ToString());
          if (!(n.type == v.to))
            bad(i, "value map to " + v.to.ToString() + " typed " + n.type.ToString());
          for (const auto& [key, value] : v.entries) {
            if (key.kind != v.from.kind || value.kind != v.to.kind)
              bad(i, "value map entry of the wrong kind");
            if (key.is_null) bad(i, "value map entry with a null key");
          }
          if (v.otherwise && v.otherwise->kind != v.to.kind)
            bad(i, "value map '*' of the wrong kind");
        }
        break;
      default:
        if (IsComparison(n.op)) {
          if (arity(2)) {
            if (n.type.kind != ir::Kind::kBool) bad(i, "comparison not typed bool");
            bool decimals =
                arg(0).type.kind == ir::Kind::kDecimal && arg(1).type.kind == ir::Kind::kDecimal;
            if (!decimals && !SameShape(arg(0).type, arg(1).type)) {
              bad(i, "compares " + arg(0).type.ToString() + " with " + arg(1).type.ToString());
            }
          }
        } else if (IsArithmetic(n.op)) {
          if (arity(2)) {
            for (size_t k = 0; k < 2; ++k) {
              bool ok = n.type.kind == ir::Kind::kDecimal ? arg(k).type.kind == ir::Kind::kDecimal
                                                          : SameShape(arg(k).type, n.type);
              if (!ok)
                bad(i, std::string(ir::OpName(n.op)) + " operand " + arg(k).type.ToString() +
                           " for " + n.type.ToString());
            }
          }
        }
        break;
    }
  }
  if (t.filter) {
    if (*t.filter < 0 || static_cast<size_t>(*t.filter) >= t.nodes.size()) {
      out.push_back(t.SymbolName() + ": the filter is no node");
    } else {
      ++users[static_cast<size_t>(*t.filter)];
      if (t.nodes[static_cast<size_t>(*t.filter)].type.kind != ir::Kind::kBool) {
        out.push_back(t.SymbolName() + ": the filter is not bool");
      }
    }
  }
  if (t.assignments.size() != t.outputs.size())
    out.push_back(t.SymbolName() + ": not one assignment per output");
  for (size_t k = 0; k < t.assignments.size(); ++k) {
    const ir::Assignment& a = t.assignments[k];
    if (a.output != static_cast<int>(k))
      out.push_back(t.SymbolName() + ": assignments out of output order");
    if (a.node < 0 || static_cast<size_t>(a.node) >= t.nodes.size() || a.output < 0 ||
        static_cast<size_t>(a.output) >= t.outputs.size()) {
      out.push_back(t.SymbolName() + ": assignment to or from nothing");
      continue;
    }
    ++users[static_cast<size_t>(a.node)];
    const ir::Type& node_type = t.nodes[static_cast<size_t>(a.node)].type;
    const ir::Type& slot_type = t.outputs[static_cast<size_t>(a.output)].type;
    bool fits = node_type.kind == slot_type.kind &&
                (node_type.kind != ir::Kind::kDecimal || node_type.scale == slot_type.scale);
    if (!fits) {
      out.push_back(t.SymbolName() + ": @" + std::to_string(k) + " " + slot_type.ToString() +
                    " gets %" + std::to_string(a.node) + " of type " + node_type.ToString() +
                    " (a cast is missing)");
    }
  }
  // Every node but inputs and constants has exactly one user, so each root
  // is a tree (ir.h). (A constant nothing uses is allowed: lowering leaves
  // one behind when it retypes a null literal, as in conditionals.ir.)
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    ir::Op op = t.nodes[i].op;
    if (op == ir::Op::kInput || op == ir::Op::kConst) continue;
    if (users[i] != 1) {
      out.push_back(t.SymbolName() + ": %" + std::to_string(i) + " " + ir::OpName(op) + " has " +
                    std::to_string(users[i]) + " users");
    }
  }
  return out;
}

struct Module {
  std::string label;
  ir::Module module;
};

// The IR cases, the standard maps and each example, lowered.
std::vector<Module> AllModules() {
  std::vector<std::vector<std::string>> inputs;
  for (const IrCase& c : DiscoverCases()) inputs.push_back({c.input});
  inputs.push_back({"stdlib-maps"});
  std::vector<std::string> examples;
  for (const fs::directory_entry& e : fs::directory_iterator("examples")) {
    if (!e.is_directory()) continue;
    // Examples without map files (the quickstart uses the standard maps) are not modules.
    bool has_maps = false;
    for (const fs::directory_entry& f : fs::directory_iterator(e.path())) {
      has_maps = has_maps || f.path().extension() == ".duet";
    }
    if (has_maps) examples.push_back("examples/" + e.path().filename().string());
  }
  std::sort(examples.begin(), examples.end());
  for (const std::string& e : examples) inputs.push_back({e});
  std::vector<Module> modules;
  for (const std::vector<std::string>& paths : inputs) {
    std::string diagnostics;
    std::optional<Lowered> lowered = CheckAndLower(paths, &diagnostics);
    if (!lowered) {
      ADD_FAILURE() << paths[0] << " does not check:\n" << diagnostics;
      continue;
    }
    modules.push_back({paths[0], std::move(lowered->module)});
  }
  return modules;
}

// The invariants are checked on everything lowering is given in the
// repository.
TEST(IrInvariants, HoldForEveryCaseStandardMapAndExample) {
  std::vector<Module> modules = AllModules();
  ASSERT_GE(modules.size(), 3u);
  size_t transforms = 0;
  std::vector<std::string> all;
  for (const Module& m : modules) {
    for (const ir::Transform& t : m.module.transforms) {
      ++transforms;
      for (const std::string& v : Violations(t)) all.push_back(m.label + ": " + v);
    }
  }
  EXPECT_GT(transforms, 20u);
  std::ostringstream list;
  for (const std::string& v : all) list << "  " << v << "\n";
  EXPECT_TRUE(all.empty()) << all.size() << " violations:\n" << list.str();
}

// The invariant checker itself must catch what it is for.
TEST(IrInvariants, CheckerCatchesBrokenIr) {
  ir::Transform t;
  t.map = "m";
  t.from_system = "a";
  t.to_system = "b";
  t.inputs.push_back({{"x"}, ir::Type{ir::Kind::kInt}});
  t.outputs.push_back({{"y"}, ir::Type{ir::Kind::kDecimal, 19, 4, 0}});
  ir::Node input;
  input.op = ir::Op::kInput;
  input.type = ir::Type{ir::Kind::kInt};
  input.slot = 0;
  t.nodes.push_back(input);
  t.assignments.push_back({0, 0});
  std::vector<std::string> v = Violations(t);
  ASSERT_EQ(v.size(), 1u) << testing::PrintToString(v);
  EXPECT_NE(v[0].find("a cast is missing"), std::string::npos) << v[0];

  ir::Node cast;
  cast.op = ir::Op::kCast;
  cast.type = ir::Type{ir::Kind::kDecimal, 19, 4, 0};
  cast.args = {0};
  t.nodes.push_back(cast);
  t.assignments[0].node = 1;
  EXPECT_TRUE(Violations(t).empty()) << testing::PrintToString(Violations(t));

  t.nodes[1].type = ir::Type{ir::Kind::kString};
  t.outputs[0].type = ir::Type{ir::Kind::kString};
  v = Violations(t);
  ASSERT_EQ(v.size(), 1u) << testing::PrintToString(v);
  EXPECT_NE(v[0].find("not a conversion the IR has"), std::string::npos) << v[0];
}

// ---- coverage: the cases together show everything lowering produces ----

std::string CastName(const ir::Type& from, const ir::Type& to) {
  auto kind = [](const ir::Type& t) {
    std::string s = t.ToString();
    return s.substr(0, s.find('('));
  };
  if (from.kind == ir::Kind::kDecimal && to.kind == ir::Kind::kDecimal) return "decimal rescale";
  return kind(from) + " -> " + kind(to);
}

TEST(IrGoldenSuite, CasesCoverEveryOperationBuiltinAndShape) {
  std::set<std::string> seen;
  std::vector<IrCase> cases = DiscoverCases();
  ASSERT_FALSE(cases.empty()) << "no cases in " << kIrDir;
  for (const IrCase& c : cases) {
    std::string diagnostics;
    std::optional<Lowered> lowered = CheckAndLower({c.input}, &diagnostics);
    if (!lowered) continue;  // the case's own test fails loudly
    for (const ir::Transform& t : lowered->module.transforms) {
      if (t.filter) seen.insert("a filter");
      for (const ir::InputSlot& s : t.inputs) {
        if (s.path.size() > 1) seen.insert("a lookup read (input path)");
        if (s.path.size() > 2) seen.insert("a two-hop lookup read");
      }
      for (const ir::OutputSlot& s : t.outputs) {
        if (s.path.size() > 1) seen.insert("a written lookup (output path)");
        if (s.not_null) seen.insert("a not null output");
        if (s.truncate) seen.insert("a truncating output");
        if (s.is_key) seen.insert("a key output");
      }
      for (const ir::ValueMapTable& v : t.value_maps) {
        seen.insert(v.otherwise ? "a value map with '*'" : "a value map without '*'");
      }
      for (const ir::Node& n : t.nodes) {
        seen.insert(std::string("op ") + ir::OpName(n.op));
        if (n.op == ir::Op::kCall) seen.insert(std::string("fn ") + ir::FnName(n.fn));
        if (n.op == ir::Op::kCast) {
          seen.insert("cast " + CastName(t.nodes[static_cast<size_t>(n.args[0])].type, n.type));
        }
        if (n.op == ir::Op::kConst && n.constant.is_null) seen.insert("a null constant");
      }
      if (t.from_system == "ce") seen.insert("a transform from the right side");
    }
  }
  std::vector<std::string> wanted;
  for (int op = 0; op <= static_cast<int>(ir::Op::kValueMap); ++op) {
    wanted.push_back(std::string("op ") + ir::OpName(static_cast<ir::Op>(op)));
  }
  for (int fn = 0; fn <= static_cast<int>(ir::Fn::kToFloat); ++fn) {
    wanted.push_back(std::string("fn ") + ir::FnName(static_cast<ir::Fn>(fn)));
  }
  for (const char* shape :
       {"cast int -> decimal", "cast int -> float", "cast decimal rescale", "cast decimal -> float",
        "cast float -> decimal", "cast date -> datetime", "a filter", "a lookup read (input path)",
        "a two-hop lookup read", "a written lookup (output path)", "a not null output",
        "a truncating output", "a key output", "a value map with '*'", "a value map without '*'",
        "a null constant", "a transform from the right side"}) {
    wanted.emplace_back(shape);
  }
  std::vector<std::string> missing;
  for (const std::string& w : wanted) {
    if (!seen.contains(w)) missing.push_back(w);
  }
  EXPECT_TRUE(missing.empty()) << "no case in " << kIrDir
                               << " shows: " << testing::PrintToString(missing);
}

}  // namespace
}  // namespace duet::golden

// Runs from the repository root so that paths are relative to it, as in
// `duetc dump --ir tests/golden/ir/NAME.duet` run there.
int main(int argc, char** argv) {
  std::error_code ec;
  std::filesystem::current_path(duet::golden::RepoRoot(), ec);
  if (ec) {
    std::cerr << "ir_golden_test: cannot change to " << DUET_REPO_ROOT << ": " << ec.message()
              << "\n";
    return 2;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
