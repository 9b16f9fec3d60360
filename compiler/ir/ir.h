// The transform IR: per map and per direction of flow, what a target row is
// made of. Lowered from check::CheckedModule; consumed by the reference
// interpreter (compiler/interp) and by code generation (compiler/codegen).
//
// A transform reads an input row (source columns and lookup paths, which the
// runtime fills from joins) and writes an output row (target columns; a
// written lookup carries the referenced row's natural key, which the runtime
// resolves). Its body is a list of typed nodes, each naming its operands by
// (smaller) index. Evaluation is demand-driven from the roots — the filter
// first, then each assignment in output order — and lazy where the language
// is: `if` evaluates one branch, `and`/`or` stop at a deciding operand,
// `coalesce` and `in` stop at the first hit. So a failing operation (division
// by zero, say) in a branch not taken does not fail the row. Every node but
// kInput and kConst has exactly one user, which makes each root a tree.
#ifndef DUET_COMPILER_IR_IR_H_
#define DUET_COMPILER_IR_IR_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/value/ops.h"

namespace duet::ir {

enum class Kind : uint8_t { kBool, kInt, kFloat, kDecimal, kString, kDate, kDateTime, kGuid };

struct Type {
  Kind kind = Kind::kBool;
  int precision = 0;   // kDecimal
  int scale = 0;       // kDecimal
  int64_t length = 0;  // kString: 0 unbounded

  std::string ToString() const;
  friend bool operator==(const Type&, const Type&) = default;
};

// A value of the IR's domain. `null` values still carry their kind.
struct Value {
  Kind kind = Kind::kBool;
  bool is_null = true;
  bool b = false;
  int64_t i = 0;  // kInt; kDate days; kDateTime microseconds
  double f = 0;
  value::int128 d = 0;  // kDecimal unscaled
  int scale = 0;        // kDecimal
  std::string s;
  std::array<uint8_t, 16> guid{};

  static Value Null(Kind kind);
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value Decimal(value::int128 unscaled, int scale);
  static Value String(std::string s);
  static Value Date(int64_t days);
  static Value DateTime(int64_t micros);

  // For dumps and JSON: "null", "true", "42", "12.50", "\"text\"", dates ISO.
  std::string ToString() const;
  // Same kind and value (decimals compared by value, not by scale).
  bool Equals(const Value& other) const;
};

enum class Op : uint8_t {
  kConst,  // `constant`
  kInput,  // input slot `slot`
  kNeg,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,  // operands have one type (casts inserted)
  kAnd,
  kOr,  // three-valued logic
  kIsNull,
  kIsNotNull,
  kIf,        // condition, then, else; a null condition takes else
  kCoalesce,  // the first non-null operand
  kIn,        // operand, candidates...: true if equal to one, null if none and any is null
  kCast,      // to `type`: int->decimal|float, decimal->decimal|float|int, float->decimal,
              // date->datetime
  kCall,      // builtin `fn`
  kValueMap,  // table `value_map` applied to the operand
};

enum class Fn : uint8_t {
  kUpper,
  kLower,
  kTrim,
  kLtrim,
  kRtrim,
  kLength,
  kSubstr,
  kLeft,
  kRight,
  kReplace,
  kConcat,
  kAbs,
  kRound,
  kYear,
  kMonth,
  kDay,
  kDateOfDateTime,
  kDateOfString,
  kAddDays,
  kToString,
  kToInt,
  kToFloat,
};

const char* OpName(Op op);
const char* FnName(Fn fn);

struct Node {
  Op op = Op::kConst;
  Type type;
  std::vector<int> args;  // indices of earlier nodes
  Value constant;         // kConst
  int slot = -1;          // kInput
  Fn fn = Fn::kUpper;     // kCall
  int value_map = -1;     // kValueMap
};

// One value map, oriented in the direction of this transform.
struct ValueMapTable {
  Type from;
  Type to;
  std::vector<std::pair<Value, Value>> entries;
  std::optional<Value> otherwise;  // the `*` entry
};

// A column of the input row: a column of the source table (path of one) or a
// lookup path through ref columns.
struct InputSlot {
  std::vector<std::string> path;
  Type type;
  std::string Name() const;  // "msdyn_company.cdm_companycode"
};

// A column of the output row, with the checks applied when it is stored.
struct OutputSlot {
  std::vector<std::string> path;  // a written lookup: resolved by natural key
  Type type;
  bool not_null = false;
  bool truncate = false;  // a too-long string is cut instead of failing the row
  bool is_key = false;
  std::string Name() const;
};

struct Assignment {
  int output = -1;
  int node = -1;
};

struct Transform {
  std::string map;
  std::string from_system;   // "fo"
  std::string to_system;     // "ce"
  std::string source_table;  // "fo.CustCustomerV3Entity"
  std::string target_table;
  std::vector<InputSlot> inputs;
  std::vector<OutputSlot> outputs;
  std::vector<ValueMapTable> value_maps;
  std::vector<Node> nodes;
  std::optional<int> filter;            // a bool node; false or null: the row is filtered
  std::vector<Assignment> assignments;  // one per output, in output order

  // "customers__fo_to_ce": the symbol of the generated function.
  std::string SymbolName() const;
};

struct Module {
  std::vector<Transform> transforms;  // maps in declaration order, left-to-right first
};

// The readable text form used by `duetc dump --ir` and golden tests.
std::string Dump(const Module& module);
std::string Dump(const Transform& transform);

}  // namespace duet::ir

#endif  // DUET_COMPILER_IR_IR_H_
