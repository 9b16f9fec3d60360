#include "tests/differential/map_generator.h"

#include <fmt/format.h>

#include <optional>
#include <random>
#include <set>
#include <stdexcept>

#include "compiler/check/builtins.h"
#include "compiler/check/types.h"

namespace duet::differential {
namespace {

using check::Builtin;
using check::Type;
using check::TypeKind;

// What an expression is asked to be. Mixed-kind productions (int with
// decimal, date with datetime) may give a wider type of the same family.
enum class Want { kBool, kInt, kFloat, kDecimal, kString, kDate, kDateTime, kGuid };

struct Expr {
  std::string text;
  Type type;
  // A bare literal (a ConstantNode once bound): written into a column it
  // must fit exactly, so the column is chosen to fit it.
  bool is_literal = false;
};

struct SourceColumn {
  const char* name;
  Type type;
  Want want;
};

const std::vector<SourceColumn>& Columns() {
  static const std::vector<SourceColumn> kColumns = {
      {"b1", Type::Bool(), Want::kBool},
      {"b2", Type::Bool(), Want::kBool},
      {"i1", Type::Int(), Want::kInt},
      {"i2", Type::Int(), Want::kInt},
      {"f1", Type::Float(), Want::kFloat},
      {"f2", Type::Float(), Want::kFloat},
      {"d1", Type::Decimal(18, 4), Want::kDecimal},
      {"d2", Type::Decimal(38, 10), Want::kDecimal},
      {"s1", Type::String(), Want::kString},
      {"s2", Type::String(), Want::kString},
      {"s10", Type::String(10), Want::kString},
      {"dt1", Type::Date(), Want::kDate},
      {"dt2", Type::Date(), Want::kDate},
      {"ts1", Type::DateTime(), Want::kDateTime},
      {"g1", Type::Guid(), Want::kGuid},
  };
  return kColumns;
}

// Integer literals; negative ones as the expression that makes them (the
// language has no negative literal in expressions, and -2^63 has no positive
// counterpart).
const std::vector<std::string>& IntLiterals() {
  static const std::vector<std::string> kInts = {"0",
                                                 "1",
                                                 "(-1)",
                                                 "2",
                                                 "3",
                                                 "7",
                                                 "10",
                                                 "(-10)",
                                                 "100",
                                                 "1000000",
                                                 "86400000000",
                                                 "3037000500",
                                                 "4611686018427387904",
                                                 "9223372036854775807",
                                                 "(-9223372036854775807)",
                                                 "(-9223372036854775807 - 1)"};
  return kInts;
}

const std::vector<std::string>& DecimalLiterals() {
  static const std::vector<std::string> kDecimals = {
      "0.0",
      "1.5",
      "0.5",
      "2.5",
      "(-2.5)",
      "0.0001",
      "0.00005",
      "1.23456789",
      "100.00",
      "(-0.001)",
      "12345678901234567890.123456789012345678",
      "9999999999999999999999999999999999999.9",
      "99999999999999.9999",
      "0.00000000000000000000000000000000000001",
      "000000000000000000000000000000000000000012.5",
      "3.14159265358979323846264338327950288",
  };
  return kDecimals;
}

const std::vector<std::string>& StringLiterals() {
  static const std::vector<std::string> kStrings = {"",
                                                    " ",
                                                    "a",
                                                    "abc",
                                                    "ABC",
                                                    "Abc Def",
                                                    " padded ",
                                                    "é",
                                                    "É",
                                                    "ß",
                                                    "straße",
                                                    "ÉCOLE",
                                                    "中文",
                                                    "😀",
                                                    "Ünïcödé",
                                                    "İı",
                                                    "ÿŸ",
                                                    "x\"y",
                                                    "back\\slash",
                                                    "tab\there",
                                                    "line\nbreak",
                                                    "42",
                                                    " -7 ",
                                                    "1.5",
                                                    "1e300",
                                                    "nan",
                                                    "-inf",
                                                    "2024-02-29",
                                                    "2023-02-29",
                                                    " 2000-01-01 ",
                                                    "abcde",
                                                    "abcdef",
                                                    "中文中文中",
                                                    "中文中文中文",
                                                    "no",
                                                    "yes",
                                                    "invoice",
                                                    "all"};
  return kStrings;
}

// Parseable by to_float, so float constants do not always fail.
const std::vector<std::string>& FloatTexts() {
  static const std::vector<std::string> kFloats = {
      "0",      "-0.0",  "1.5",    "2.5",    "-2.5",
      "0.1",    "1e300", "-1e300", "5e-324", "nan",
      "inf",    "-inf",  "1e38",   " 3 ",    "9.2233720368547758e18",
      "123.456"};
  return kFloats;
}

const std::vector<std::string>& IntTexts() {
  static const std::vector<std::string> kInts = {"0",
                                                 "42",
                                                 " -7 ",
                                                 "+3",
                                                 "9223372036854775807",
                                                 "-9223372036854775808",
                                                 "9223372036854775808",
                                                 "12a",
                                                 "1.5"};
  return kInts;
}

const std::vector<std::string>& DateTexts() {
  static const std::vector<std::string> kDates = {"2024-02-29", "1970-01-01",   "0001-01-01",
                                                  "9999-12-31", " 2000-01-01 ", "1900-03-01"};
  return kDates;
}

std::string TypeText(const Type& t) { return t.ToString(); }

class Generator {
 public:
  Generator(uint64_t seed, const GeneratorOptions& options) : rng_(seed), options_(options) {}

  GeneratedModule Module() {
    GeneratedModule out;
    out.text = SourceDeclarations();
    for (int m = 0; m < options_.maps; ++m) {
      std::string name = fmt::format("m{}", m);
      std::string map_text = Map(m, name);
      out.text += "\n" + map_text;
      out.map_texts.push_back(SourceDeclarations() + "\n" + map_text);
      out.map_names.push_back(name);
    }
    return out;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  int Between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <typename T>
  const T& OneOf(const std::vector<T>& v) {
    return v[Pick(v.size())];
  }

  // ---- maps ----

  struct Field {
    std::string expr;
    std::string column;
    Type column_type;
    bool not_null = false;
    std::string options;  // " truncate", " values { ... }"
  };

  std::string Map(int index, const std::string& name) {
    std::vector<Field> fields;
    int count = Between(options_.min_fields, options_.max_fields);
    for (int f = 0; f < count; ++f) fields.push_back(MakeField(f));
    std::string table = fmt::format("b.U{}", index);
    std::string text = fmt::format("table {} {{\n  k int not null;\n", table);
    for (const Field& f : fields) {
      text += fmt::format("  {} {}{};\n", f.column, TypeText(f.column_type),
                          f.not_null ? " not null" : "");
    }
    text += "  key (k);\n}\n\n";
    text += fmt::format("map {}: a.T -> {} {{\n", name, table);
    if (Chance(0.3)) text += fmt::format("  filter a: {};\n", Gen(Want::kBool, Between(1, 3)).text);
    for (const Field& f : fields)
      text += fmt::format("  {} -> {}{};\n", f.expr, f.column, f.options);
    // The key last: a null key fails the row, and every field before it is
    // still compared.
    text += "  rid -> k;\n}\n";
    return text;
  }

  std::string ColumnName(int f) {
    if (options_.odd_column_names && Chance(0.03)) {
      switch (Pick(3)) {
        case 0:
          return fmt::format("`prix unitaire (€) {}`", f);
        case 1:
          return fmt::format("`{}_{}`", std::string(120, 'x'), f);
        default:
          return fmt::format(
              "`{} {}`",
              std::string("列名很长的列名很长的列名很长的列名很长的列名很长的列名很长的"), f);
      }
    }
    return fmt::format("c{}", f);
  }

  Field MakeField(int f) {
    Field field;
    field.column = ColumnName(f);
    if (Chance(0.04)) {
      // A null-typed expression: any nullable column takes it.
      static const std::vector<Type> kAny = {
          Type::Bool(),    Type::Int(),  Type::Float(),    Type::Decimal(18, 4), Type::String(),
          Type::String(5), Type::Date(), Type::DateTime(), Type::Guid()};
      field.column_type = OneOf(kAny);
      field.expr = Nullish(field.column_type.is_numeric());
      return field;
    }
    field.not_null = Chance(0.04);
    int depth = Between(1, options_.max_depth);
    if (Chance(0.15)) {
      static const std::vector<Want> kKeyed = {Want::kString, Want::kString, Want::kInt,
                                               Want::kInt,    Want::kBool,   Want::kDecimal,
                                               Want::kDate,   Want::kGuid};
      Expr e = Gen(OneOf(kKeyed), depth);
      field.expr = e.text;
      ValueMapField(e, field);
      return field;
    }
    static const std::vector<Want> kWants = {
        Want::kBool,   Want::kInt,    Want::kInt,    Want::kFloat, Want::kDecimal,  Want::kDecimal,
        Want::kString, Want::kString, Want::kString, Want::kDate,  Want::kDateTime, Want::kGuid};
    Expr e = Gen(OneOf(kWants), depth);
    field.expr = e.text;
    field.column_type = e.is_literal ? LiteralTarget(e.type) : TargetType(e.type);
    if (field.column_type.kind == TypeKind::kString && field.column_type.length > 0 &&
        (Chance(0.7) || (e.is_literal && e.type.length > field.column_type.length))) {
      field.options = " truncate";
    }
    return field;
  }

  // A column a bare literal of type `t` fits exactly (the checker rejects a
  // constant that would be cut or rounded), or a bounded string column that
  // truncates it.
  Type LiteralTarget(const Type& t) {
    switch (t.kind) {
      case TypeKind::kInt: {
        static const std::vector<Type> kTargets = {Type::Int(), Type::Float(),
                                                   Type::Decimal(38, 10)};
        return OneOf(kTargets);
      }
      case TypeKind::kDecimal:
        if (Chance(0.2)) return Type::Float();
        return Type::Decimal(std::min(t.precision, 38), t.scale);
      case TypeKind::kString:
        return Chance(0.5) ? Type::String() : TargetType(t);
      default:
        return t;
    }
  }

  // A column type the value of `t` may be written into.
  Type TargetType(const Type& t) {
    switch (t.kind) {
      case TypeKind::kInt: {
        static const std::vector<Type> kTargets = {
            Type::Int(),          Type::Int(),          Type::Int(),  Type::Decimal(38, 10),
            Type::Decimal(18, 4), Type::Decimal(10, 2), Type::Float()};
        return OneOf(kTargets);
      }
      case TypeKind::kFloat:
        return Chance(0.8) ? Type::Float()
                           : (Chance(0.5) ? Type::Decimal(38, 10) : Type::Decimal(18, 4));
      case TypeKind::kDecimal: {
        switch (Pick(6)) {
          case 0:
          case 1:
            // A literal such as 0000...12.5 counts its leading zeros into
            // its precision, which may pass 38: no column has that type.
            if (t.precision <= 38) return t;
            return Type::Decimal(38, std::min(t.scale, 38));
          case 2:
            return Type::Decimal(38, 10);
          case 3:
            return Type::Decimal(18, 4);
          case 4:
            return Type::Decimal(10, 2);
          default:
            return Type::Float();
        }
      }
      case TypeKind::kString: {
        static const std::vector<Type> kTargets = {
            Type::String(),  Type::String(),   Type::String(5),  Type::String(5),
            Type::String(1), Type::String(20), Type::String(100)};
        return OneOf(kTargets);
      }
      case TypeKind::kDate:
        return Chance(0.8) ? Type::Date() : Type::DateTime();
      default:
        return t;
    }
  }

  // Turns `field` into a value-mapped one: keys of the expression's type,
  // values of the column's, with or without a `*` default. Dates, datetimes
  // and guids are written as strings in their ISO forms.
  void ValueMapField(const Expr& e, Field& field) {
    static const std::vector<Type> kTargets = {
        Type::Int(),          Type::String(), Type::String(5),  Type::Bool(),
        Type::Decimal(10, 2), Type::Date(),   Type::DateTime(), Type::Guid()};
    field.column_type = OneOf(kTargets);
    std::set<std::string> keys;
    std::vector<std::string> entries;
    int n = Between(1, 5);
    for (int i = 0; i < n; ++i) {
      std::string key = ConstantOf(e.type);
      if (!options_.unrepresentable_decimal_keys && e.type.kind == TypeKind::kDecimal &&
          IntegerDigits(key) + e.type.scale > 38) {
        continue;
      }
      if (!keys.insert(key).second) continue;
      entries.push_back(key + " = " + ConstantOf(field.column_type));
    }
    if (Chance(0.75)) entries.push_back("* = " + ConstantOf(field.column_type));
    std::string body;
    for (size_t i = 0; i < entries.size(); ++i) body += (i == 0 ? "" : ", ") + entries[i];
    field.options = " values { " + body + " }";
  }

  // Digits before the point of a numeric constant ("-12.5" has 2).
  static int IntegerDigits(const std::string& text) {
    int digits = 0;
    bool leading = true;
    for (char c : text) {
      if (c == '.') break;
      if (c < '0' || c > '9' || (leading && c == '0')) continue;
      leading = false;
      ++digits;
    }
    return digits;
  }

  // A constant (a value-map entry: literal with an optional sign) of type t.
  // Every constant of one type is a different value (the checker rejects a
  // key listed twice, however it is written).
  std::string ConstantOf(const Type& t) {
    switch (t.kind) {
      case TypeKind::kBool:
        return Chance(0.5) ? "true" : "false";
      case TypeKind::kInt: {
        static const std::vector<std::string> kInts = {"0",
                                                       "1",
                                                       "-1",
                                                       "2",
                                                       "3",
                                                       "7",
                                                       "42",
                                                       "-7",
                                                       "806380000",
                                                       "9223372036854775807",
                                                       "-9223372036854775807"};
        return OneOf(kInts);
      }
      case TypeKind::kFloat:
      case TypeKind::kDecimal: {
        static const std::vector<std::string> kDecimals = {
            "0",       "1",        "-1",          "1.5",    "0.5", "-2.25",
            "12.3456", "12.34565", "99999999.99", "0.0001", "100"};
        return OneOf(kDecimals);
      }
      case TypeKind::kString:
        return QuoteString(OneOf(StringLiterals()));
      case TypeKind::kDate: {
        static const std::vector<std::string> kDates = {"2024-02-29", "1970-01-01", "0001-01-01",
                                                        "9999-12-31", "1969-12-31"};
        return QuoteString(OneOf(kDates));
      }
      case TypeKind::kDateTime: {
        static const std::vector<std::string> kDateTimes = {
            "2024-02-29T13:45:00Z", "1970-01-01T00:00:00", "1969-12-31 23:59:59.999999",
            "2000-01-01T00:00:00.5Z"};
        return QuoteString(OneOf(kDateTimes));
      }
      case TypeKind::kGuid: {
        static const std::vector<std::string> kGuids = {"00000000-0000-0000-0000-000000000000",
                                                        "0123abcd-4567-89ef-0123-456789abcdef",
                                                        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"};
        return QuoteString(OneOf(kGuids));
      }
      default:
        return "0";
    }
  }

  // ---- expressions ----

  // A null-typed expression. Lowering gives it the kind its context
  // expects; `numeric` says that kind is a number, where `-null`,
  // `abs(null)` and `round(null)` are always fine.
  std::string Nullish(bool numeric) {
    if (numeric || options_.null_typed_numeric) {
      static const std::vector<std::string> kNullish = {"null",
                                                        "(-null)",
                                                        "abs(null)",
                                                        "round(null)",
                                                        "round(null, 2)",
                                                        "(if b1 then null else null)",
                                                        "coalesce(null, null)",
                                                        "(null)"};
      return OneOf(kNullish);
    }
    static const std::vector<std::string> kNullish = {"null", "(if b1 then null else null)",
                                                      "coalesce(null, null)", "(null)"};
    return OneOf(kNullish);
  }

  static bool IsNumeric(Want want) {
    return want == Want::kInt || want == Want::kFloat || want == Want::kDecimal;
  }

  // An operand where the checker also takes a null-typed expression.
  Expr Operand(Want want, int depth) {
    if (Chance(0.03)) return Expr{Nullish(IsNumeric(want)), Type::Null()};
    return Gen(want, depth);
  }

  Expr Column(Want want) {
    std::vector<const SourceColumn*> matching;
    for (const SourceColumn& c : Columns()) {
      if (c.want == want) matching.push_back(&c);
    }
    const SourceColumn* c = matching[Pick(matching.size())];
    return Expr{c->name, c->type};
  }

  Expr Literal(Want want) {
    switch (want) {
      case Want::kBool:
        return Expr{Chance(0.5) ? "true" : "false", Type::Bool(), true};
      case Want::kInt: {
        const std::string& text = OneOf(IntLiterals());
        return Expr{text, Type::Int(), text[0] != '('};
      }
      case Want::kFloat: {
        switch (Pick(3)) {
          case 0:
            return Expr{fmt::format("to_float({})", QuoteString(OneOf(FloatTexts()))),
                        Type::Float()};
          case 1:
            return Expr{fmt::format("to_float({})", OneOf(IntLiterals())), Type::Float()};
          default:
            return Expr{fmt::format("to_float({})", OneOf(DecimalLiterals())), Type::Float()};
        }
      }
      case Want::kDecimal: {
        std::string text = Chance(0.7) ? OneOf(DecimalLiterals()) : RandomDecimalLiteral();
        return Expr{text, DecimalLiteralType(text), text[0] != '('};
      }
      case Want::kString: {
        std::string s = Chance(0.8) ? OneOf(StringLiterals()) : RandomString();
        return Expr{QuoteString(s), Type::String(CodePoints(s)), true};
      }
      case Want::kDate:
        return Expr{fmt::format("date({})", QuoteString(OneOf(DateTexts()))), Type::Date()};
      default:
        return Column(want);
    }
  }

  std::string RandomDecimalLiteral() {
    int int_digits = Between(1, 20);
    int frac_digits = Between(1, 38 - int_digits);
    std::string text;
    for (int i = 0; i < int_digits; ++i) text += static_cast<char>('0' + Pick(10));
    text += '.';
    for (int i = 0; i < frac_digits; ++i) text += static_cast<char>('0' + Pick(10));
    return Chance(0.3) ? "(-" + text + ")" : text;
  }

  std::string RandomString() {
    static const std::vector<std::string> kPieces = {"a",  "B", "z",  " ",  "é", "ß",
                                                     "中", "😀", "\"", "\\", "İ", "-"};
    std::string s;
    int n = Between(0, 8);
    for (int i = 0; i < n; ++i) s += OneOf(kPieces);
    return s;
  }

  static int64_t CodePoints(const std::string& s) {
    int64_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  }

  // As check::Constant::type(): every digit counts towards the precision.
  static Type DecimalLiteralType(const std::string& text) {
    size_t point = text.find('.');
    int digits = 0;
    int scale = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] >= '0' && text[i] <= '9') {
        ++digits;
        if (i > point) ++scale;
      }
    }
    return Type::Decimal(std::max(digits, 1), scale);
  }

  Expr Leaf(Want want) {
    if (want == Want::kDateTime || want == Want::kGuid || Chance(0.6)) return Column(want);
    return Literal(want);
  }

  Expr Call(Builtin fn, std::vector<Expr> args) {
    std::vector<Type> types;
    std::string text = std::string(check::Info(fn).name) + "(";
    for (size_t i = 0; i < args.size(); ++i) {
      types.push_back(args[i].type);
      text += (i == 0 ? "" : ", ") + args[i].text;
    }
    text += ")";
    std::string problem;
    std::optional<Type> type = check::ResolveCall(fn, types, &problem);
    if (!type)
      throw std::logic_error("generator built an ill-typed call: " + text + ": " + problem);
    return Expr{text, *type};
  }

  Expr Binary(const Expr& a, const char* op, const Expr& b, const Type& type) {
    return Expr{fmt::format("({} {} {})", a.text, op, b.text), type};
  }

  // A string argument of a conversion (to_int, to_float, date): half the
  // time text it can parse, possibly padded, so not every row fails.
  Expr Parseable(const std::vector<std::string>& texts, int depth) {
    switch (Pick(4)) {
      case 0:
        return Literal(Want::kString);
      case 1:
        return Operand(Want::kString, depth - 1);
      case 2: {
        std::string text = OneOf(texts);
        return Expr{QuoteString(text), Type::String(CodePoints(text)), true};
      }
      default: {
        std::string text = OneOf(texts);
        Expr padded =
            Call(Builtin::kConcat,
                 {Expr{QuoteString(text), Type::String(CodePoints(text))}, Column(Want::kString)});
        return Chance(0.5) ? Call(Builtin::kTrim, {padded}) : padded;
      }
    }
  }

  // A small int: positions, counts, digits and day deltas.
  Expr SmallInt(int depth) {
    static const std::vector<std::string> kSmall = {"0",    "1",    "2",   "3",     "5", "10",
                                                    "(-1)", "(-2)", "100", "(-40)", "40"};
    switch (Pick(5)) {
      case 0:
      case 1:
        return Expr{OneOf(kSmall), Type::Int()};
      case 2:
        return Column(Want::kInt);
      default:
        return Operand(Want::kInt, depth - 1);
    }
  }

  Want NumericWant() {
    static const std::vector<Want> kNumeric = {Want::kInt, Want::kFloat, Want::kDecimal};
    return OneOf(kNumeric);
  }

  Expr Arithmetic(Want want, int depth) {
    static const std::vector<std::string> kOps = {"+", "-", "*", "/", "%"};
    const std::string& op = OneOf(kOps);
    Want other = want;
    if (want == Want::kFloat) other = NumericWant();
    if (want == Want::kDecimal) other = Chance(0.5) ? Want::kInt : Want::kDecimal;
    Expr a = Operand(want, depth - 1);
    Expr b = Operand(other, depth - 1);
    if (Chance(0.5)) std::swap(a, b);
    std::optional<Type> type = check::ArithmeticType(op[0], a.type, b.type);
    if (!type) {
      // One operand is null-typed: the result has the other's type.
      type = a.type.kind == TypeKind::kNull ? b.type : a.type;
      if (type->kind == TypeKind::kNull) return Gen(want, depth - 1);
    }
    return Binary(a, op.c_str(), b, *type);
  }

  Expr Compare(int depth) {
    static const std::vector<std::string> kOps = {"==", "!=", "<", "<=", ">", ">="};
    Want a_want, b_want;
    bool ordered = true;
    switch (Pick(6)) {
      case 0:
      case 1:
        a_want = NumericWant();
        b_want = Chance(0.5) ? a_want : NumericWant();
        break;
      case 2:
        a_want = b_want = Want::kString;
        break;
      case 3:
        a_want = Chance(0.5) ? Want::kDate : Want::kDateTime;
        b_want = Chance(0.5) ? Want::kDate : Want::kDateTime;
        break;
      case 4:
        a_want = b_want = Want::kBool;
        ordered = false;
        break;
      default:
        a_want = b_want = Want::kGuid;
        ordered = false;
        break;
    }
    const std::string& op = ordered ? OneOf(kOps) : kOps[Pick(2)];
    Expr a = Gen(a_want, depth - 1);
    Expr b = Chance(0.4) ? Leaf(b_want) : Gen(b_want, depth - 1);
    return Binary(a, op.c_str(), b, Type::Bool());
  }

  Expr In(int depth) {
    Want want;
    switch (Pick(5)) {
      case 0:
        want = Want::kString;
        break;
      case 1:
        want = Want::kInt;
        break;
      case 2:
        want = NumericWant();
        break;
      case 3:
        want = Chance(0.5) ? Want::kDate : Want::kDateTime;
        break;
      default:
        want = Want::kBool;
        break;
    }
    Expr operand = Gen(want, depth - 1);
    int n = Between(1, 4);
    std::string text = "(" + operand.text + (Chance(0.3) ? " not in (" : " in (");
    for (int i = 0; i < n; ++i) {
      std::string candidate;
      if (Chance(0.1)) {
        candidate = "null";
      } else {
        Want w = want;
        if (want == Want::kInt || want == Want::kDecimal || want == Want::kFloat)
          w = Chance(0.7) ? want : NumericWant();
        if (want == Want::kDate || want == Want::kDateTime)
          w = Chance(0.5) ? Want::kDate : Want::kDateTime;
        candidate = (Chance(0.7) ? Literal(w) : Gen(w, depth - 2)).text;
      }
      text += (i == 0 ? "" : ", ") + candidate;
    }
    return Expr{text + "))", Type::Bool()};
  }

  // `if` over two branches of `want`'s family; sometimes one branch null.
  Expr If(Want want, int depth) {
    Expr c = Gen(Want::kBool, depth - 1);
    Expr a = Gen(Family(want), depth - 1);
    Expr b = Gen(want, depth - 1);
    if (Chance(0.5)) std::swap(a, b);
    if (Chance(0.1)) (Chance(0.5) ? a : b) = Expr{"null", Type::Null()};
    std::optional<Type> type = check::CommonType(a.type, b.type);
    if (!type)
      throw std::logic_error("generator built an ill-typed if: " + a.text + " / " + b.text);
    return Expr{fmt::format("(if {} then {} else {})", c.text, a.text, b.text), *type};
  }

  Expr Coalesce(Want want, int depth) {
    int n = Between(2, 3);
    std::vector<Expr> args;
    args.push_back(Gen(want, depth - 1));
    for (int i = 1; i < n; ++i)
      args.push_back(Chance(0.15) ? Expr{"null", Type::Null()} : Gen(Family(want), depth - 1));
    for (size_t i = args.size() - 1; i > 0; --i) std::swap(args[i], args[Pick(i + 1)]);
    return Call(Builtin::kCoalesce, args);
  }

  // A kind that mixes with `want` in if/coalesce/comparison.
  Want Family(Want want) {
    switch (want) {
      case Want::kFloat:
        return NumericWant();
      case Want::kDecimal:
        return Chance(0.3) ? Want::kInt : Want::kDecimal;
      case Want::kDateTime:
        return Chance(0.4) ? Want::kDate : Want::kDateTime;
      default:
        return want;
    }
  }

  Want AnyWant() {
    static const std::vector<Want> kAll = {Want::kBool,     Want::kInt,    Want::kFloat,
                                           Want::kDecimal,  Want::kString, Want::kDate,
                                           Want::kDateTime, Want::kGuid};
    return OneOf(kAll);
  }

 public:
  Expr Gen(Want want, int depth) {
    if (depth <= 1 || Chance(0.15)) return Leaf(want);
    switch (want) {
      case Want::kBool:
        switch (Pick(9)) {
          case 0:
          case 1:
            return Compare(depth);
          case 2:
            return Binary(Operand(Want::kBool, depth - 1), "and", Operand(Want::kBool, depth - 1),
                          Type::Bool());
          case 3:
            return Binary(Operand(Want::kBool, depth - 1), "or", Operand(Want::kBool, depth - 1),
                          Type::Bool());
          case 4:
            return Expr{"(not " + Operand(Want::kBool, depth - 1).text + ")", Type::Bool()};
          case 5:
            // The operand of `is null` lowers with the kind bool when null-typed.
            return Expr{"(" + (Chance(0.03) ? Nullish(false) : Gen(AnyWant(), depth - 1).text) +
                            (Chance(0.5) ? " is null)" : " is not null)"),
                        Type::Bool()};
          case 6:
            return In(depth);
          case 7:
            return If(want, depth);
          default:
            return Coalesce(want, depth);
        }
      case Want::kInt:
        switch (Pick(12)) {
          case 0:
          case 1:
          case 2:
            return Arithmetic(want, depth);
          case 3: {
            Expr a = Gen(want, depth - 1);
            return Expr{"(-" + a.text + ")", a.type};
          }
          case 4:
            return Call(Builtin::kLength, {Operand(Want::kString, depth - 1)});
          case 5: {
            static const std::vector<Builtin> kParts = {Builtin::kYear, Builtin::kMonth,
                                                        Builtin::kDay};
            return Call(OneOf(kParts),
                        {Operand(Chance(0.5) ? Want::kDate : Want::kDateTime, depth - 1)});
          }
          case 6: {
            static const std::vector<Want> kFrom = {Want::kString, Want::kDecimal, Want::kFloat,
                                                    Want::kBool, Want::kInt};
            Want from = OneOf(kFrom);
            return Call(Builtin::kToInt, {from == Want::kString ? Parseable(IntTexts(), depth)
                                                                : Operand(from, depth - 1)});
          }
          case 7:
            return Call(Builtin::kAbs, {Gen(want, depth - 1)});
          case 8:
            if (Chance(0.5)) return Call(Builtin::kRound, {Gen(want, depth - 1)});
            return Call(Builtin::kRound, {Gen(want, depth - 1), SmallInt(depth)});
          case 9:
          case 10:
            return If(want, depth);
          default:
            return Coalesce(want, depth);
        }
      case Want::kFloat:
      case Want::kDecimal:
        switch (Pick(10)) {
          case 0:
          case 1:
          case 2:
            return Arithmetic(want, depth);
          case 3: {
            Expr a = Gen(want, depth - 1);
            return Expr{"(-" + a.text + ")", a.type};
          }
          case 4:
            return Call(Builtin::kAbs, {Gen(want, depth - 1)});
          case 5:
            if (Chance(0.3)) return Call(Builtin::kRound, {Gen(want, depth - 1)});
            return Call(Builtin::kRound, {Gen(want, depth - 1), SmallInt(depth)});
          case 6:
            if (want == Want::kFloat) {
              static const std::vector<Want> kFrom = {Want::kString, Want::kInt, Want::kDecimal,
                                                      Want::kFloat};
              Want from = OneOf(kFrom);
              return Call(Builtin::kToFloat, {from == Want::kString ? Parseable(FloatTexts(), depth)
                                                                    : Operand(from, depth - 1)});
            }
            return Arithmetic(want, depth);
          case 7:
          case 8:
            return If(want, depth);
          default:
            return Coalesce(want, depth);
        }
      case Want::kString:
        switch (Pick(13)) {
          case 0: {
            static const std::vector<Builtin> kUnary = {
                Builtin::kUpper, Builtin::kLower, Builtin::kTrim, Builtin::kLtrim, Builtin::kRtrim};
            return Call(OneOf(kUnary), {Operand(want, depth - 1)});
          }
          case 1:
            return Call(Builtin::kSubstr,
                        {Operand(want, depth - 1), SmallInt(depth), SmallInt(depth)});
          case 2:
            return Call(Chance(0.5) ? Builtin::kLeft : Builtin::kRight,
                        {Operand(want, depth - 1), SmallInt(depth)});
          case 3:
            return Call(Builtin::kReplace, {Operand(want, depth - 1),
                                            Chance(0.6) ? Literal(want) : Gen(want, depth - 1),
                                            Operand(want, depth - 2)});
          case 4:
          case 5: {
            std::vector<Expr> args;
            int n = Between(1, 4);
            for (int i = 0; i < n; ++i) args.push_back(Operand(want, depth - 1));
            return Call(Builtin::kConcat, args);
          }
          case 6:
          case 7:
            // A null-typed argument of to_string lowers as a string.
            return Call(Builtin::kToString, {Chance(0.03) ? Expr{Nullish(false), Type::Null()}
                                                          : Gen(AnyWant(), depth - 1)});
          case 8: {
            static const std::vector<Builtin> kUnary = {Builtin::kUpper, Builtin::kLower,
                                                        Builtin::kTrim};
            return Call(OneOf(kUnary), {Gen(want, depth - 1)});
          }
          case 9:
          case 10:
            return If(want, depth);
          default:
            return Coalesce(want, depth);
        }
      case Want::kDate:
        switch (Pick(6)) {
          case 0:
            return Call(Builtin::kDate, {Operand(Want::kDateTime, depth - 1)});
          case 1:
            return Call(Builtin::kDate, {Parseable(DateTexts(), depth)});
          case 2:
            return Call(Builtin::kAddDays, {Operand(want, depth - 1), SmallInt(depth)});
          case 3:
            return If(want, depth);
          case 4:
            return Coalesce(want, depth);
          default:
            return Call(Builtin::kDate, {Operand(Want::kDate, depth - 1)});
        }
      case Want::kDateTime:
        switch (Pick(4)) {
          case 0:
          case 1:
            return Call(Builtin::kAddDays, {Gen(want, depth - 1), SmallInt(depth)});
          case 2:
            return If(want, depth);
          default:
            return Coalesce(want, depth);
        }
      case Want::kGuid:
        if (Chance(0.5)) return If(want, depth);
        return Coalesce(want, depth);
    }
    return Leaf(want);
  }

 private:
  std::mt19937_64 rng_;
  GeneratorOptions options_;
};

}  // namespace

std::string QuoteString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string SourceDeclarations() {
  std::string text = "system a;\nsystem b;\n\ntable a.T {\n  rid int not null;\n";
  for (const SourceColumn& c : Columns())
    text += fmt::format("  {} {};\n", c.name, TypeText(c.type));
  text += "  key (rid);\n}\n";
  return text;
}

GeneratedModule GenerateModule(uint64_t seed, const GeneratorOptions& options) {
  return Generator(seed, options).Module();
}

}  // namespace duet::differential
