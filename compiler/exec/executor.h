// Runs the transforms of an ir::Module on rows of ir::Values, either with the
// reference interpreter or with generated code through the JIT. Both behind
// one interface so `duetc test`, differential tests and benchmarks can swap
// them.
#ifndef DUET_COMPILER_EXEC_EXECUTOR_H_
#define DUET_COMPILER_EXEC_EXECUTOR_H_

#include <memory>
#include <span>
#include <vector>

#include "compiler/codegen/codegen.h"
#include "compiler/interp/interp.h"
#include "compiler/ir/ir.h"
#include "duet/abi.h"
#include "runtime/base/status.h"

namespace duet::exec {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs transform number `transform` of the module on one row.
  virtual interp::RowResult Run(size_t transform, std::span<const ir::Value> inputs,
                                std::vector<ir::Value>& outputs) = 0;
};

// `module` must outlive the executor.
std::unique_ptr<Executor> MakeInterpreter(const ir::Module& module);
Expected<std::unique_ptr<Executor>> MakeJit(const ir::Module& module,
                                            const codegen::Options& options);

// Conversions between the IR's values and the C ABI's. A duet_value made
// from an ir::Value points into it (strings) and lives no longer.
void ToAbi(const ir::Value& value, duet_value* out);
ir::Value FromAbi(const duet_value& value, const ir::Type& type);

}  // namespace duet::exec

#endif  // DUET_COMPILER_EXEC_EXECUTOR_H_
