// The AST: what a map file says, with source ranges, before any name is
// resolved. Built by compiler/syntax from the parse tree (whose types never
// leave syntax/); consumed by compiler/check, which produces a different type.
#ifndef DUET_COMPILER_AST_AST_H_
#define DUET_COMPILER_AST_AST_H_

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/diag/source.h"

namespace duet::ast {

using diag::SourceRange;

struct Name {
  std::string text;
  SourceRange range;
};

// `system.table`
struct QualifiedName {
  Name system;
  Name table;
  SourceRange range;

  std::string ToString() const { return system.text + "." + table.text; }
};

enum class LiteralKind { kNull, kBool, kInt, kDecimal, kString };

struct Literal {
  LiteralKind kind = LiteralKind::kNull;
  bool bool_value = false;
  // kInt and kDecimal: the digits as written, with a leading '-' if negative.
  // kString: the value with escapes resolved.
  std::string text;
  SourceRange range;
};

// ---- expressions ----

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class UnaryOp { kNegate, kNot };
enum class BinaryOp {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kAnd,
  kOr,
};
const char* BinaryOpSpelling(BinaryOp op);

struct LiteralExpr {
  Literal value;
};
// A column (`NAME`) or a lookup path (`msdyn_company.cdm_companycode`).
struct PathExpr {
  std::vector<Name> segments;
};
struct UnaryExpr {
  UnaryOp op;
  ExprPtr operand;
};
struct BinaryExpr {
  BinaryOp op;
  SourceRange op_range;
  ExprPtr lhs;
  ExprPtr rhs;
};
struct IsNullExpr {
  ExprPtr operand;
  bool negated = false;
};
struct InExpr {
  ExprPtr operand;
  std::vector<ExprPtr> candidates;
  bool negated = false;
};
struct IfExpr {
  ExprPtr condition;
  ExprPtr then_value;
  ExprPtr else_value;
};
struct CallExpr {
  Name callee;
  std::vector<ExprPtr> args;
};

struct Expr {
  SourceRange range;
  std::variant<LiteralExpr, PathExpr, UnaryExpr, BinaryExpr, IsNullExpr, InExpr, IfExpr, CallExpr>
      node;
};

// ---- declarations ----

struct ImportDecl {
  std::string path;  // as written, relative to the importing file
  SourceRange range;
};

struct SystemDecl {
  Name name;
  std::optional<std::string> label;
  SourceRange range;
};

// `string(100)`, `decimal(32, 6)`, `ref ce.account`. Arguments are kept as
// written; the checker validates them.
struct TypeSyntax {
  Name name;  // empty text for `ref`
  std::vector<Literal> args;
  std::optional<QualifiedName> ref;
  SourceRange range;
};

struct ColumnDecl {
  Name name;
  TypeSyntax type;
  bool not_null = false;
  bool explicit_null = false;  // `null` written out
  std::optional<Literal> default_value;
  bool local = false;  // declared as deliberately not synced
  SourceRange range;
};

struct KeyDecl {
  std::vector<Name> columns;
  SourceRange range;
};

struct IdDecl {
  Name column;
  SourceRange range;
};

// `table` or `extend table`. Every id/key declaration is kept so the checker
// can report duplicates.
struct TableDecl {
  QualifiedName name;
  std::optional<std::string> label;
  bool is_extension = false;
  std::vector<ColumnDecl> columns;
  std::vector<IdDecl> ids;
  std::vector<KeyDecl> keys;
  SourceRange range;
};

struct ValueKey {
  bool wildcard = false;
  Literal value;  // when not a wildcard
  SourceRange range;
};

struct ValueEntry {
  ValueKey left;
  ValueKey right;
  SourceRange range;
};

struct ValueMapBody {
  std::vector<ValueEntry> entries;
  SourceRange range;
};

struct ValueMapDecl {
  Name name;
  ValueMapBody body;
  SourceRange range;
};

enum class Direction { kBoth, kToRight, kToLeft };
const char* DirectionSpelling(Direction direction);

struct FieldMapping {
  ExprPtr left;
  Direction direction = Direction::kBoth;
  SourceRange direction_range;
  ExprPtr right;
  std::optional<ValueMapBody> inline_values;
  std::optional<Name> named_values;
  std::optional<Name> master;  // per-field conflict rule
  bool truncate = false;
  // The author knows that the mapping rounds decimals one way (W0104, W0108)
  // and means it.
  bool rounded = false;
  // The lookup this mapping writes is filled after initial sync and does not
  // order it (breaks dependency cycles, like dual-write's deferred lookups).
  bool deferred = false;
  SourceRange range;
};

struct VersionSetting {
  std::string text;  // "1.0.5"
  SourceRange range;
};

// `master fo;` names a system or `newest` or `manual`.
struct MasterSetting {
  Name rule;
  SourceRange range;
};

// `initial from fo;` or `initial none;` (side empty).
struct InitialSetting {
  std::optional<Name> side;
  SourceRange range;
};

struct FilterDecl {
  Name side;
  ExprPtr condition;
  SourceRange range;
};

// `map` or `extend map`. An extension only carries field mappings.
struct MapDecl {
  Name name;
  std::optional<std::string> label;
  bool is_extension = false;
  QualifiedName left;
  Direction direction = Direction::kBoth;
  SourceRange direction_range;
  QualifiedName right;
  std::vector<VersionSetting> versions;
  std::vector<MasterSetting> masters;
  std::vector<InitialSetting> initials;
  std::vector<FilterDecl> filters;
  std::vector<FieldMapping> fields;
  SourceRange range;
};

struct RowField {
  std::vector<Name> path;
  Literal value;
  SourceRange range;
};

struct RowLiteral {
  std::vector<RowField> fields;
  SourceRange range;
};

enum class TestStepKind { kGiven, kExpectRow, kExpectFiltered, kExpectError };

struct TestStep {
  TestStepKind kind = TestStepKind::kGiven;
  std::optional<Name> side;               // kGiven, kExpectRow
  RowLiteral row;                         // kGiven, kExpectRow
  std::optional<std::string> error_text;  // kExpectError, optional substring
  SourceRange range;
};

// `test MAP "name" { given fo {...}; expect ce {...}; }`
struct TestDecl {
  Name map;
  std::optional<std::string> label;
  std::vector<TestStep> steps;
  SourceRange range;
};

// Everything declared in one source file.
struct SourceUnit {
  diag::FileId file = diag::kNoFile;
  std::vector<ImportDecl> imports;
  std::vector<SystemDecl> systems;
  std::vector<TableDecl> tables;
  std::vector<ValueMapDecl> value_maps;
  std::vector<MapDecl> maps;
  std::vector<TestDecl> tests;

  bool empty() const {
    return imports.empty() && systems.empty() && tables.empty() && value_maps.empty() &&
           maps.empty() && tests.empty();
  }
};

// All files of one compilation (the named ones and everything they import),
// in load order.
struct Module {
  std::vector<SourceUnit> units;
};

// The expression in the language's own syntax, fully parenthesised where
// precedence matters; for messages and AST dumps.
std::string ExprToString(const Expr& expr);
std::string LiteralToString(const Literal& literal);

// A readable, indented dump of the module (for parser golden tests).
std::string DumpModule(const Module& module);

}  // namespace duet::ast

#endif  // DUET_COMPILER_AST_AST_H_
