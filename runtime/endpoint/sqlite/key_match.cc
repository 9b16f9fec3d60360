#include "runtime/endpoint/sqlite/key_match.h"

#include "runtime/value/ops.h"

namespace duet::endpoint {
namespace {

using bundle::ValueKind;

// Above every character that can follow a prefix in the spellings covered
// (digits, '.', ' ', 'T', 'Z', ':'), so [prefix, prefix + kAfter) holds them.
constexpr char kAfter[] = "\x7f";
// More trailing zeros than any decimal of 38 digits has.
constexpr int kMaxTrailingZeros = 40;

KeyParam Int(int64_t i) {
  KeyParam p;
  p.kind = KeyParam::Kind::kInt;
  p.i = i;
  return p;
}

KeyParam Real(double d) {
  KeyParam p;
  p.kind = KeyParam::Kind::kReal;
  p.d = d;
  return p;
}

KeyParam Text(std::string s) {
  KeyParam p;
  p.kind = KeyParam::Kind::kText;
  p.s = std::move(s);
  return p;
}

KeyParam Blob(std::string s) {
  KeyParam p;
  p.kind = KeyParam::Kind::kBlob;
  p.s = std::move(s);
  return p;
}

// `column IN (?, ?, ...)` over `values`.
void AppendIn(std::string_view column, std::vector<KeyParam> values, std::string* sql,
              std::vector<KeyParam>* params) {
  *sql += std::string(column) + " IN (";
  for (size_t i = 0; i < values.size(); ++i) *sql += i ? ", ?" : "?";
  *sql += ")";
  for (KeyParam& p : values) params->push_back(std::move(p));
}

// `(column >= ? AND column < ?)` for the texts starting with one of
// `prefixes`, OR-ed.
void AppendPrefixes(std::string_view column, const std::vector<std::string>& prefixes,
                    std::string* sql, std::vector<KeyParam>* params) {
  *sql += "(";
  for (size_t i = 0; i < prefixes.size(); ++i) {
    *sql += (i ? " OR " : "") + std::string("(") + std::string(column) + " >= ? AND " +
            std::string(column) + " < ?)";
    params->push_back(Text(prefixes[i]));
    params->push_back(Text(prefixes[i] + kAfter));
  }
  *sql += ")";
}

// A decimal: equal as a number (INTEGER and REAL compare by value; a column
// with NUMERIC affinity turns the text bounds below into that number too),
// or text between its shortest form and that form with trailing zeros
// ('1' .. '1.000...', '1.5' .. '1.5000...'). A TEXT column turns the
// number into its text, which the range holds as well.
void AppendDecimal(std::string_view column, const Value& v, std::string* sql,
                   std::vector<KeyParam>* params) {
  std::string shortest = value::FormatDecimal(v.decimal_value(), v.scale());
  size_t dot = shortest.find('.');
  if (dot != std::string::npos) {
    size_t last = shortest.find_last_not_of('0');
    shortest.resize(last == dot ? dot : last + 1);
  }
  std::string longest = shortest;
  if (longest.find('.') == std::string::npos) longest += '.';
  longest.append(kMaxTrailingZeros, '0');
  std::optional<int64_t> whole;
  value::int128 unit = value::Pow10(v.scale());
  if (v.decimal_value() % unit == 0) {
    value::int128 w = v.decimal_value() / unit;
    if (w >= INT64_MIN && w <= INT64_MAX) whole = static_cast<int64_t>(w);
  }
  std::string c(column);
  *sql += "(" + c + " = ? OR (" + c + " >= ? AND " + c + " <= ?))";
  params->push_back(whole ? Int(*whole)
                          : Real(value::DecimalToDouble(v.decimal_value(), v.scale())));
  params->push_back(Text(shortest));
  params->push_back(Text(longest));
}

void AppendGuid(std::string_view column, const Value& v, std::string* sql,
                std::vector<KeyParam>* params) {
  std::string lower = value::FormatGuid(v.guid_value());
  std::string upper = value::Upper(lower);
  const auto& bytes = v.guid_value();
  AppendIn(column,
           {Text(lower), Text(upper), Text("{" + lower + "}"), Text("{" + upper + "}"),
            Blob(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()))},
           sql, params);
}

void AppendDateTime(std::string_view column, const Value& v, std::string* sql,
                    std::vector<KeyParam>* params) {
  std::string seconds = value::FormatDateTime(v.int_value()).substr(0, 19);  // ...THH:MM:SS
  std::string spaced = seconds;
  spaced[10] = ' ';
  AppendPrefixes(column, {seconds, spaced}, sql, params);
}

}  // namespace

void AppendKeyCondition(std::string_view column, const bundle::ColumnType& type,
                        const Value& wanted, std::string* sql, std::vector<KeyParam>* params) {
  switch (type.kind) {
    case ValueKind::kDecimal:
      return AppendDecimal(column, wanted, sql, params);
    case ValueKind::kGuid:
      return AppendGuid(column, wanted, sql, params);
    case ValueKind::kDate:
      return AppendPrefixes(column, {value::FormatDate(wanted.int_value())}, sql, params);
    case ValueKind::kDateTime:
      return AppendDateTime(column, wanted, sql, params);
    case ValueKind::kInt:
      return AppendIn(column, {Int(wanted.int_value()), Text(std::to_string(wanted.int_value()))},
                      sql, params);
    case ValueKind::kBool:
      return AppendIn(column,
                      {Int(wanted.int_value()), Text(wanted.int_value() ? "true" : "false")}, sql,
                      params);
    case ValueKind::kFloat:
      return AppendIn(column, {Real(wanted.float_value())}, sql, params);
    case ValueKind::kString:
    case ValueKind::kRef:
      return AppendIn(column, {Text(wanted.string_value())}, sql, params);
  }
}

}  // namespace duet::endpoint
