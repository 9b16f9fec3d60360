// Transform throughput and compile/load times, measured side by side in one
// run (scripts/bench.sh; figures in docs/performance.md):
//   - the customers -> accounts map of stdlib-maps (fo -> ce, 60+ columns)
//     run by generated code, by the reference interpreter, and a plain copy
//     of as many values per row (the physical floor);
//   - duetc compile of all stdlib-maps (lower, LLVM, bitcode, object code);
//   - loading that bundle: cold (JIT code generation from bitcode), from its
//     object code, and again from the engine's object cache.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compiler/bundler/bundler.h"
#include "compiler/codegen/codegen.h"
#include "compiler/exec/executor.h"
#include "compiler/frontend/frontend.h"
#include "compiler/interp/interp.h"
#include "compiler/ir/lower.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/loaded_bundle.h"
#include "runtime/jit/engine.h"
#include "runtime/jit/helpers.h"

namespace duet::bench {
namespace {

constexpr size_t kRows = 1024;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "transform_bench: %s\n", why.c_str());
  std::exit(1);
}

struct Fixture {
  std::unique_ptr<frontend::Result> result;
  ir::Module module;
  size_t transform = 0;
  std::vector<std::vector<ir::Value>> rows;  // kRows input rows

  Fixture() {
    std::vector<std::string> paths = {std::string(DUET_SOURCE_DIR) + "/stdlib-maps"};
    result = frontend::CheckPaths(paths, {});
    if (!result->ok() || !result->checked) Die("stdlib-maps do not check clean");
    module = ir::Lower(*result->checked);
    const check::CheckedModule& model = *result->checked;
    bool found = false;
    for (size_t i = 0; i < module.transforms.size(); ++i) {
      if (module.transforms[i].map == "customers_accounts" &&
          module.transforms[i].from_system == "fo") {
        transform = i;
        found = true;
      }
    }
    if (!found) Die("no customers_accounts fo -> ce transform");
    const ir::Transform& t = module.transforms[transform];
    // The map's own test row, made distinct per row by its account number.
    const check::TestCase* test = nullptr;
    for (const check::TestCase& c : model.tests) {
      if (model.maps[static_cast<size_t>(c.map)].name == "customers_accounts" &&
          c.expectation == check::Expectation::kRow && c.given_side == check::Side::kLeft) {
        test = &c;
        break;
      }
    }
    if (test == nullptr) Die("customers_accounts has no fo test row");
    for (size_t r = 0; r < kRows; ++r) {
      std::vector<ir::Value> row;
      for (const ir::InputSlot& slot : t.inputs) {
        ir::Value v = ir::Value::Null(slot.type.kind);
        for (const check::RowValue& given : test->given) {
          std::vector<std::string> path;
          for (const check::ColumnRef& hop : given.path) {
            path.push_back(model.tables[static_cast<size_t>(hop.table)]
                               .columns[static_cast<size_t>(hop.column)]
                               .name);
          }
          if (path == slot.path) v = ir::ConvertConstant(given.value, slot.type);
        }
        if (slot.path == std::vector<std::string>{"CUSTOMERACCOUNT"})
          v = ir::Value::String("C" + std::to_string(r));
        row.push_back(std::move(v));
      }
      rows.push_back(std::move(row));
    }
    // Every row must transform: a benchmark of error paths would mislead.
    std::vector<ir::Value> out;
    if (interp::Run(t, rows[0], out).outcome != interp::Outcome::kOk)
      Die("the benchmark row does not transform");
  }
};

Fixture& Get() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_TransformGeneratedCode(benchmark::State& state) {
  Fixture& f = Get();
  const ir::Transform& t = f.module.transforms[f.transform];
  Expected<std::string> bitcode = codegen::EmitBitcode(f.module, {});
  if (!bitcode.ok()) Die(bitcode.status().ToString());
  // The code the runtime runs: a bundle's object code is generated at
  // LLVM's default level by duetc, which is what optimize_code asks the JIT
  // for here (without it the JIT favours load time over row speed).
  jit::EngineOptions options;
  options.optimize_code = true;
  Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create(options);
  if (!engine.ok()) Die(engine.status().ToString());
  Expected<std::unique_ptr<jit::LoadedCode>> code = (*engine)->Load(*bitcode, "bench");
  if (!code.ok()) Die(code.status().ToString());
  Expected<duet_transform_fn> fn = (*code)->Find(t.SymbolName());
  if (!fn.ok()) Die(fn.status().ToString());
  std::vector<std::vector<duet_value>> in(kRows, std::vector<duet_value>(t.inputs.size()));
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t i = 0; i < t.inputs.size(); ++i) exec::ToAbi(f.rows[r][i], &in[r][i]);
  }
  std::vector<duet_value> out(t.outputs.size());
  jit::Context context;
  size_t r = 0;
  for (auto _ : state) {
    context.Reset();
    int32_t status = (*fn)(in[r].data(), out.data(), context.get());
    if (status != DUET_OK)
      Die(std::string("generated code failed: ") + context.get()->error_message);
    benchmark::DoNotOptimize(out.data());
    r = (r + 1) % kRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["columns"] = static_cast<double>(t.outputs.size());
}
BENCHMARK(BM_TransformGeneratedCode);

void BM_TransformInterpreter(benchmark::State& state) {
  Fixture& f = Get();
  const ir::Transform& t = f.module.transforms[f.transform];
  std::vector<ir::Value> out;
  size_t r = 0;
  for (auto _ : state) {
    interp::RowResult result = interp::Run(t, f.rows[r], out);
    benchmark::DoNotOptimize(result);
    r = (r + 1) % kRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TransformInterpreter);

// The floor: copying as many duet_values as the target row has, from the
// same input rows, with no checks or conversions.
void BM_TransformPlainCopy(benchmark::State& state) {
  Fixture& f = Get();
  const ir::Transform& t = f.module.transforms[f.transform];
  std::vector<std::vector<duet_value>> in(kRows, std::vector<duet_value>(t.inputs.size()));
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t i = 0; i < t.inputs.size(); ++i) exec::ToAbi(f.rows[r][i], &in[r][i]);
  }
  std::vector<duet_value> out(t.outputs.size());
  size_t r = 0;
  for (auto _ : state) {
    const std::vector<duet_value>& row = in[r];
    // Output i takes input i mod n, counted without a division per value (an
    // integer division per value used to cost more than the copy itself).
    for (size_t i = 0, j = 0; i < out.size(); ++i) {
      out[i] = row[j];
      if (++j == row.size()) j = 0;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    r = (r + 1) % kRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TransformPlainCopy);

void BM_CompileStdlib(benchmark::State& state) {
  Fixture& f = Get();
  for (auto _ : state) {
    Expected<bundle::Contents> contents = bundler::Build(*f.result, {});
    if (!contents.ok()) Die(contents.status().ToString());
    benchmark::DoNotOptimize(bundle::Serialize(*contents));
  }
}
BENCHMARK(BM_CompileStdlib)->Unit(benchmark::kMillisecond);

bundle::Verified StdlibBundle(bool with_object) {
  bundler::Options options;
  options.include_object = with_object;
  Expected<bundle::Contents> contents = bundler::Build(*Get().result, options);
  if (!contents.ok()) Die(contents.status().ToString());
  Expected<bundle::Verified> verified = bundle::Parse(bundle::Serialize(*contents), {});
  if (!verified.ok()) Die(verified.status().ToString());
  return *verified;
}

// A fresh engine each time and no object code: parse bitcode, generate
// machine code for every transform.
void BM_LoadCold(benchmark::State& state) {
  bundle::Verified verified = StdlibBundle(false);
  for (auto _ : state) {
    Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({});
    Expected<std::unique_ptr<bundle::LoadedBundle>> loaded =
        bundle::LoadedBundle::FromVerified(**engine, verified);
    if (!loaded.ok()) Die(loaded.status().ToString());
    benchmark::DoNotOptimize(loaded->get());
  }
}
BENCHMARK(BM_LoadCold)->Unit(benchmark::kMillisecond);

// A fresh engine each time, the bundle's object code: link only.
void BM_LoadObjectCode(benchmark::State& state) {
  bundle::Verified verified = StdlibBundle(true);
  for (auto _ : state) {
    Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({});
    Expected<std::unique_ptr<bundle::LoadedBundle>> loaded =
        bundle::LoadedBundle::FromVerified(**engine, verified);
    if (!loaded.ok() || !(*loaded)->loaded_object_code()) Die("object code did not load");
    benchmark::DoNotOptimize(loaded->get());
  }
}
BENCHMARK(BM_LoadObjectCode)->Unit(benchmark::kMillisecond);

// One engine, bitcode only, loaded again and again: after the first load the
// engine's object cache serves the machine code.
void BM_LoadWarmFromCache(benchmark::State& state) {
  bundle::Verified verified = StdlibBundle(false);
  Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({});
  { auto first = bundle::LoadedBundle::FromVerified(**engine, verified); }
  for (auto _ : state) {
    Expected<std::unique_ptr<bundle::LoadedBundle>> loaded =
        bundle::LoadedBundle::FromVerified(**engine, verified);
    if (!loaded.ok()) Die(loaded.status().ToString());
    benchmark::DoNotOptimize(loaded->get());
  }
  state.counters["cache_hits"] = static_cast<double>((*engine)->cache_stats().hits);
}
BENCHMARK(BM_LoadWarmFromCache)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace duet::bench

BENCHMARK_MAIN();
