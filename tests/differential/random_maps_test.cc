// Randomly generated maps (map_generator.h) checked by the real front end,
// lowered, compiled, and run on random rows through both engines.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>
#include <string>

#include "compiler/ir/lower.h"
#include "tests/differential/harness.h"
#include "tests/differential/map_generator.h"

namespace duet::differential {
namespace {

// Several modules of 30 maps: JIT compilation is paid per module, so maps are
// batched, and separate modules keep a failure's blast radius small.
constexpr int kModules = 4;
constexpr int kRowsPerTransform = 500;

uint64_t ModuleSeed(int module) { return StreamSeed(1000 + static_cast<uint64_t>(module)); }

// Generates module number `module`, compiles it with the JIT at `opt_level`
// and compares the engines on random rows.
void GenerateAndSweep(int module, int opt_level) {
  auto start = std::chrono::steady_clock::now();
  GeneratedModule generated = GenerateModule(ModuleSeed(module), GeneratorOptions{});
  std::string name = "generated_" + std::to_string(module) + ".duet";
  codegen::Options options;
  options.opt_level = opt_level;
  Compiled c = CompileSource(name, generated.text, options);
  ASSERT_TRUE(c.problem.empty()) << "generated module " << module << " (DUET_DIFF_SEED=" << Seed()
                                 << ") does not compile; a generator bug unless the JIT failed:\n"
                                 << c.problem << "\n---- source ----\n"
                                 << generated.text;
  auto compiled = std::chrono::steady_clock::now();
  auto context = [&](size_t transform) {
    const std::string& map = c.module->transforms[transform].map;
    for (size_t i = 0; i < generated.map_names.size(); ++i) {
      if (generated.map_names[i] == map)
        return "  map source (standalone):\n" + generated.map_texts[i] + "\n";
    }
    return std::string("  (map source not found)\n");
  };
  SweepResult r = Sweep(c, kRowsPerTransform, ModuleSeed(module), context);
  auto end = std::chrono::steady_clock::now();
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::cout << "[ diff     ] " << name << " (O" << opt_level << "): " << c.module->transforms.size()
            << " transforms, " << r.cases << " rows compared; compile "
            << duration_cast<milliseconds>(compiled - start).count() << " ms, run "
            << duration_cast<milliseconds>(end - compiled).count()
            << " ms (DUET_DIFF_SEED=" << Seed() << "); " << r.stats.ToString() << "\n";
  EXPECT_EQ(r.mismatches, 0) << r.mismatches
                             << " rows differ between the interpreter and the JIT:\n"
                             << r.report;
}

class RandomMaps : public testing::TestWithParam<int> {};

TEST_P(RandomMaps, EnginesAgree) { GenerateAndSweep(GetParam(), codegen::Options{}.opt_level); }

INSTANTIATE_TEST_SUITE_P(Modules, RandomMaps, testing::Range(0, kModules));

// One more module with unoptimised generated code: the optimiser must not be
// what makes the engines agree (or disagree).
TEST(RandomMapsUnoptimized, EnginesAgree) { GenerateAndSweep(kModules, 0); }

// The generated modules, lowered, use every IR operation and every builtin,
// so the sweep above covers the whole language (a generator change that drops
// a construct fails here rather than silently testing less).
TEST(RandomMapsCoverage, GeneratedModulesUseEveryOperationAndBuiltin) {
  std::set<ir::Op> ops;
  std::set<ir::Fn> fns;
  for (int module = 0; module < kModules; ++module) {
    GeneratedModule generated = GenerateModule(ModuleSeed(module), GeneratorOptions{});
    auto front = frontend::CheckSource("generated.duet", generated.text, frontend::Options{});
    ASSERT_TRUE(front->ok()) << "generated module " << module << " does not check";
    ir::Module m = ir::Lower(*front->checked);
    for (const ir::Transform& t : m.transforms) {
      for (const ir::Node& n : t.nodes) {
        ops.insert(n.op);
        if (n.op == ir::Op::kCall) fns.insert(n.fn);
      }
    }
  }
  for (int op = static_cast<int>(ir::Op::kConst); op <= static_cast<int>(ir::Op::kValueMap); ++op) {
    EXPECT_TRUE(ops.contains(static_cast<ir::Op>(op)))
        << "no generated node uses " << ir::OpName(static_cast<ir::Op>(op));
  }
  for (int fn = static_cast<int>(ir::Fn::kUpper); fn <= static_cast<int>(ir::Fn::kToFloat); ++fn) {
    EXPECT_TRUE(fns.contains(static_cast<ir::Fn>(fn)))
        << "no generated call uses " << ir::FnName(static_cast<ir::Fn>(fn));
  }
}

}  // namespace
}  // namespace duet::differential
