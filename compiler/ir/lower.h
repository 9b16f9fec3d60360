// Lowering: check::CheckedModule -> ir::Module. Makes every conversion
// explicit (casts), orients value maps in the direction of flow and lays out
// the input and output rows. Requires a model that checked without errors.
#ifndef DUET_COMPILER_IR_LOWER_H_
#define DUET_COMPILER_IR_LOWER_H_

#include "compiler/check/model.h"
#include "compiler/ir/ir.h"

namespace duet::ir {

Module Lower(const check::CheckedModule& model);

// A checked constant as a value of `type`; the checker has verified that the
// constant is assignable to it (null becomes a null of type.kind).
Value ConvertConstant(const check::Constant& constant, const Type& type);

}  // namespace duet::ir

#endif  // DUET_COMPILER_IR_LOWER_H_
