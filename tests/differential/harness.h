// The machinery of the differential tests: compiling map text for both
// executors, random input rows shaped by a transform, and running one row
// through the interpreter and the JIT and comparing everything they report.
//
// Contract of a comparison: both executors must give the same outcome; on
// kError the same error_kind, error_slot and message; on kOk every output
// value equal by ir::Value::Equals and, beyond that, floats with the same sign
// of zero and decimals at the same scale (a consumer reads both).
#ifndef DUET_TESTS_DIFFERENTIAL_HARNESS_H_
#define DUET_TESTS_DIFFERENTIAL_HARNESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "compiler/exec/executor.h"
#include "compiler/frontend/frontend.h"
#include "compiler/interp/interp.h"
#include "compiler/ir/ir.h"
#include "runtime/jit/error_kinds.h"

namespace duet::differential {

// The run's seed: DUET_DIFF_SEED if set (decimal or 0x-hex), else a fixed
// default, so an unchanged tree always runs the same cases.
uint64_t Seed();
// A seed derived from the run's seed and a test-specific stream number.
uint64_t StreamSeed(uint64_t stream);

// DUET_DIFF_VERBOSE set: sweeps print per-transform outcomes and errors.
bool Verbose();

// Process-wide count of rows compared between the two engines, printed at
// the end of the run (differential_main.cc).
void CountCases(int64_t n);
int64_t CasesCompared();

// A module ready to run: front end result, lowered IR and both executors.
// The IR lives at a stable address (executors keep a reference to it).
struct Compiled {
  std::unique_ptr<frontend::Result> front;
  std::unique_ptr<ir::Module> module;
  std::unique_ptr<exec::Executor> interp;
  std::unique_ptr<exec::Executor> jit;
  // Empty when everything compiled; otherwise what went wrong (diagnostics
  // of the front end, or the JIT's status).
  std::string problem;
};

// Checks, lowers and compiles `text` (a whole map file) for both executors;
// `jit` sets the generated code's optimisation level.
Compiled CompileSource(const std::string& name, const std::string& text,
                       const codegen::Options& jit = {});
// The same for files and directories on disk (frontend::CheckPaths).
Compiled CompilePaths(const std::vector<std::string>& paths, const codegen::Options& jit = {});
// Builds the executors for an already checked front-end result.
void FinishCompile(Compiled& compiled, const codegen::Options& jit);

// Human-readable forms for failure reports. DescribeValue adds what
// Value::ToString leaves out (a decimal's scale, a negative zero).
std::string DescribeValue(const ir::Value& v);
std::string FormatRow(const ir::Transform& t, std::span<const ir::Value> row);
std::string FormatResult(const ir::Transform& t, const interp::RowResult& r,
                         const std::vector<ir::Value>& outputs);
using jit::ErrorKindName;

// Exact agreement of two output values (see the file comment).
bool SameValue(const ir::Value& a, const ir::Value& b);

// Runs row `inputs` of transform `index` through both executors. Returns a
// description of every difference, or nullopt when they agree. `interp_out`
// receives the interpreter's result (the oracle).
struct EngineResults {
  interp::RowResult interp;
  std::vector<ir::Value> interp_outputs;
  interp::RowResult jit;
  std::vector<ir::Value> jit_outputs;
};
std::optional<std::string> RunBoth(Compiled& c, size_t index, std::span<const ir::Value> inputs,
                                   EngineResults* results = nullptr);

// Counts of outcomes, to show that random rows reach every outcome.
struct OutcomeStats {
  int64_t ok = 0;
  int64_t filtered = 0;
  int64_t error = 0;
  std::map<int32_t, int64_t> errors_by_kind;
  // Output fields the rows got to (all on kOk, those before the failing one
  // on kError), of all fields of all rows: how much of each map is exercised.
  int64_t fields_reached = 0;
  int64_t fields_total = 0;
  void Add(const interp::RowResult& r, size_t outputs);
  std::string ToString() const;
};

// Random input rows for one transform. Per input slot: ~15% null (2% for a
// column declared not null); otherwise values drawn to hit edges (extreme
// ints, NaN and infinities, -0.0, decimals of every digit count up to the
// slot's precision at the slot's scale, strings around the columns' lengths
// with multi-byte characters, dates within +-200,000 days) and constants of
// the transform, so filters, `in` and value maps see matching values: 40% of
// the time a constant the slot itself is compared or value-mapped against,
// else half the time for strings and a third for other kinds any constant
// of the slot's kind (value-map keys, kConst nodes).
class RowGenerator {
 public:
  RowGenerator(const ir::Transform& t, uint64_t seed);
  // A source column declared `not null` is rarely null (default 15%).
  void SetNullRate(size_t slot, double rate) { null_rates_[slot] = rate; }
  std::vector<ir::Value> Next();
  ir::Value Generate(const ir::Type& type);

 private:
  ir::Value RandomInt();
  ir::Value RandomFloat();
  ir::Value RandomDecimal(const ir::Type& type);
  ir::Value RandomString();
  ir::Value RandomDate();
  ir::Value RandomDateTime();
  ir::Value RandomGuid();
  std::optional<ir::Value> FromConstants(const ir::Type& type);
  // `v` as an input of `type` (decimals rescaled to the slot's scale), or
  // nullopt if it cannot be one.
  static std::optional<ir::Value> Fit(const ir::Value& v, const ir::Type& type);
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  const ir::Transform& t_;
  std::mt19937_64 rng_;
  std::map<ir::Kind, std::vector<ir::Value>> constants_;
  std::vector<int64_t> lengths_;                        // lengths of bounded target string columns
  std::vector<double> null_rates_;                      // per input slot
  std::vector<std::vector<ir::Value>> slot_constants_;  // per input slot
};

// Runs `rows` random rows through every transform of `c`, comparing the
// engines. Returns the failure report (empty when all agree); at most a few
// mismatches per transform are described in full. `context` is printed with
// each mismatch for the transform it concerns (the source text of a generated
// map, say); the seed is always printed.
struct SweepResult {
  int64_t cases = 0;
  int64_t mismatches = 0;
  OutcomeStats stats;
  std::string report;
};
SweepResult Sweep(Compiled& c, int rows_per_transform, uint64_t seed,
                  const std::function<std::string(size_t transform)>& context);

}  // namespace duet::differential

#endif  // DUET_TESTS_DIFFERENTIAL_HARNESS_H_
