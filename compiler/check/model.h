// The checked model: every name resolved to an index, every expression typed,
// every map validated against the rules of the language. A different type
// from the AST, so later stages (IR, codegen, docs) cannot see an unresolved
// name. Indices refer into the vectors of CheckedModule.
#ifndef DUET_COMPILER_CHECK_MODEL_H_
#define DUET_COMPILER_CHECK_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/builtins.h"
#include "compiler/check/types.h"
#include "compiler/diag/source.h"

namespace duet::check {

using diag::SourceRange;

struct System {
  std::string name;
  std::optional<std::string> label;
  SourceRange range;
};

// A typed constant. Decimals keep their digits as written ("-12.50"): the
// exact scaled-integer form is the IR's business.
struct Constant {
  TypeKind kind = TypeKind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  std::string text;  // kDecimal digits; kString value
  SourceRange range;

  Type type() const;
  std::string ToString() const;  // as written in map files
  friend bool operator==(const Constant& a, const Constant& b) {
    return a.kind == b.kind && a.bool_value == b.bool_value && a.int_value == b.int_value &&
           a.text == b.text;
  }
};

struct Column {
  std::string name;
  Type type;
  bool not_null = false;
  std::optional<Constant> default_value;
  bool local = false;     // declared as deliberately not synced
  bool is_id = false;     // system-assigned identity
  int key_position = -1;  // position in the table's key, or -1
  SourceRange range;
};

struct Table {
  int system = -1;
  std::string system_name;
  std::string name;
  std::string qualified_name;  // "fo.CustCustomerV3Entity"
  std::optional<std::string> label;
  std::vector<Column> columns;
  std::optional<int> id_column;
  std::vector<int> key_columns;  // empty: no key declared
  SourceRange range;
  SourceRange key_range;

  std::optional<int> FindColumn(const std::string& column) const;
  std::unordered_map<std::string, int> column_index;
};

// One step of a column path: column `column` of table `table`.
struct ColumnRef {
  int table = -1;
  int column = -1;
};

// ---- bound expressions ----

struct BoundExpr;
using BoundExprPtr = std::unique_ptr<BoundExpr>;

struct ConstantNode {
  Constant value;
};
// A column of the row (one hop) or a lookup path (several hops, each but the
// last through a ref column).
struct PathNode {
  std::vector<ColumnRef> hops;
  bool is_lookup() const { return hops.size() > 1; }
};
struct UnaryNode {
  ast::UnaryOp op;
  BoundExprPtr operand;
};
struct BinaryNode {
  ast::BinaryOp op;
  BoundExprPtr lhs;
  BoundExprPtr rhs;
};
struct IsNullNode {
  BoundExprPtr operand;
  bool negated = false;
};
struct InNode {
  BoundExprPtr operand;
  std::vector<BoundExprPtr> candidates;
  bool negated = false;
};
struct IfNode {
  BoundExprPtr condition;
  BoundExprPtr then_value;
  BoundExprPtr else_value;
};
struct CallNode {
  Builtin function;
  std::vector<BoundExprPtr> args;
};

struct BoundExpr {
  Type type;
  SourceRange range;
  std::variant<ConstantNode, PathNode, UnaryNode, BinaryNode, IsNullNode, InNode, IfNode, CallNode>
      node;
};

// ---- maps ----

enum class Side { kLeft = 0, kRight = 1 };
inline Side Other(Side side) { return side == Side::kLeft ? Side::kRight : Side::kLeft; }

enum class Direction { kBoth, kToRight, kToLeft };
// Whether data moves from `from` to the other side under `direction`.
bool Flows(Direction direction, Side from);

enum class RuleKind { kSide, kNewest, kManual };
struct ConflictRule {
  RuleKind kind = RuleKind::kSide;
  Side side = Side::kLeft;  // kSide: this side wins
  SourceRange range;
};

// A value map with its entries resolved to constants. `left_default` is the
// `* = value` entry (any other left value maps to it, for left-to-right use);
// `right_default` likewise for right-to-left.
struct ValueMap {
  std::vector<std::pair<Constant, Constant>> entries;
  std::optional<Constant> left_default;
  std::optional<Constant> right_default;
  std::optional<std::string> name;  // for named value maps
};

// One line of a map: values of `left` (over the left table) and `right` (over
// the right table) correspond; `direction` says which ends are written.
struct FieldMap {
  Direction direction = Direction::kBoth;
  BoundExprPtr left;
  BoundExprPtr right;
  // The column each end writes, when that end is written: the column itself,
  // or the first (ref) column of a lookup path.
  std::optional<int> left_target;
  std::optional<int> right_target;
  std::optional<ValueMap> values;
  std::optional<ConflictRule> master;  // per-field rule, overrides the map's
  bool truncate = false;
  bool deferred = false;  // its written lookup does not order initial sync
  SourceRange range;
};

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  int build = -1;  // the optional fourth part, as in 1.0.0.5
  std::string ToString() const;
};

enum class InitialSync { kFromLeft, kFromRight, kNone };

struct Map {
  std::string name;
  std::optional<std::string> label;
  std::array<int, 2> tables = {-1, -1};  // by Side
  std::array<int, 2> systems = {-1, -1};
  Direction direction = Direction::kBoth;
  Version version;
  std::optional<ConflictRule> master;
  InitialSync initial = InitialSync::kFromLeft;
  std::array<BoundExprPtr, 2> filters;  // by Side; null: every row
  std::vector<FieldMap> fields;
  // Maps whose rows this map's lookups reference; they sync first.
  std::vector<int> depends_on;
  SourceRange range;

  int table(Side side) const { return tables[static_cast<int>(side)]; }
};

// ---- tests ----

struct RowValue {
  std::vector<ColumnRef> path;
  Constant value;
  SourceRange range;
};

enum class Expectation { kRow, kFiltered, kError };

struct TestCase {
  int map = -1;
  std::string name;
  Side given_side = Side::kLeft;
  std::vector<RowValue> given;
  Expectation expectation = Expectation::kRow;
  std::vector<RowValue> expected;  // on the other side
  std::optional<std::string> error_text;
  SourceRange range;
};

struct CheckedModule {
  std::vector<System> systems;
  std::vector<Table> tables;
  std::vector<Map> maps;
  std::vector<TestCase> tests;
  // Every map, dependencies first: the order of initial sync.
  std::vector<int> initial_sync_order;

  std::optional<int> FindTable(const std::string& qualified_name) const;
  std::optional<int> FindMap(const std::string& name) const;
};

// The expression in map-language syntax (binary operands parenthesised), for
// manifests, docs and messages.
std::string ExprText(const BoundExpr& expr, const CheckedModule& model);
std::string RuleText(const ConflictRule& rule, const Map& map, const CheckedModule& model);
const char* DirectionText(Direction direction);

}  // namespace duet::check

#endif  // DUET_COMPILER_CHECK_MODEL_H_
