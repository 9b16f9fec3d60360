#include "compiler/ir/messages.h"

#include <fmt/format.h>

#include "duet/abi.h"

namespace duet::ir {

std::string NullInNotNullMessage(const OutputSlot& slot) {
  return fmt::format("column '{}' is not null, but the mapped value is null", slot.Name());
}

std::string StringTooLongMessage(const OutputSlot& slot) {
  return fmt::format("value is longer than column '{}' allows ({} characters)", slot.Name(),
                     slot.type.length);
}

std::string DecimalTooLargeMessage(const OutputSlot& slot) {
  return fmt::format("value does not fit column '{}' ({})", slot.Name(), slot.type.ToString());
}

std::string NodeErrorMessage(const Transform& transform, const Node& node, int kind) {
  switch (kind) {
    case DUET_ERR_DIVISION_BY_ZERO:
      return "division by zero";
    case DUET_ERR_INT_OVERFLOW:
      return node.op == Op::kCall ? fmt::format("integer overflow in {}", FnName(node.fn))
                                  : fmt::format("integer overflow in {}", OpName(node.op));
    case DUET_ERR_DECIMAL_OVERFLOW:
      return fmt::format("decimal overflow in {} (result {})",
                         node.op == Op::kCall ? FnName(node.fn) : OpName(node.op),
                         node.type.ToString());
    case DUET_ERR_NO_VALUE_MAPPING: {
      const ValueMapTable& table = transform.value_maps[static_cast<size_t>(node.value_map)];
      return fmt::format("no value-map entry matches the value ({} values listed, no '*' default)",
                         table.entries.size());
    }
    case DUET_ERR_BAD_CONVERSION:
      if (node.op == Op::kCall) {
        switch (node.fn) {
          case Fn::kToInt:
            if (!node.args.empty() &&
                transform.nodes[static_cast<size_t>(node.args[0])].type.kind == Kind::kFloat) {
              return "a NaN has no integer value";
            }
            return "text is not an integer";
          case Fn::kToFloat:
            return "text is not a number";
          case Fn::kDateOfString:
            return "text is not a date (YYYY-MM-DD)";
          default:
            break;
        }
      }
      return fmt::format("value cannot be converted to {}", node.type.ToString());
    default:
      return "transform failed";
  }
}

}  // namespace duet::ir
