// The messages of per-row errors. They depend only on the transform, never
// on the data (the failing row travels with the error), so generated code can
// carry them as constants and the interpreter produces the same text.
#ifndef DUET_COMPILER_IR_MESSAGES_H_
#define DUET_COMPILER_IR_MESSAGES_H_

#include <string>

#include "compiler/ir/ir.h"

namespace duet::ir {

std::string NullInNotNullMessage(const OutputSlot& slot);
std::string StringTooLongMessage(const OutputSlot& slot);
std::string DecimalTooLargeMessage(const OutputSlot& slot);
// For an operation node that failed; `kind` is a duet_error_kind.
std::string NodeErrorMessage(const Transform& transform, const Node& node, int kind);

}  // namespace duet::ir

#endif  // DUET_COMPILER_IR_MESSAGES_H_
