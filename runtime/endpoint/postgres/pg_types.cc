#include "runtime/endpoint/postgres/pg_types.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "runtime/value/ops.h"

namespace duet::pg {
namespace {

using bundle::ValueKind;
using endpoint::Value;

bool OneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (name == n) return true;
  }
  return false;
}

// The PostgreSQL types (typname) that hold values of `kind` exactly.
bool KindFits(std::string_view name, ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return OneOf(name, {"text", "varchar", "bpchar"});
    case ValueKind::kDecimal:
      return name == "numeric";
    case ValueKind::kInt:
      return OneOf(name, {"int2", "int4", "int8"});
    case ValueKind::kFloat:
      return OneOf(name, {"float4", "float8"});
    case ValueKind::kBool:
      return name == "bool";
    case ValueKind::kGuid:
      return name == "uuid";
    case ValueKind::kDate:
      return name == "date";
    case ValueKind::kDateTime:
      return OneOf(name, {"timestamp", "timestamptz"});
    case ValueKind::kRef:
      return false;
  }
  return false;
}

// The scale of numeric(p,s) from its typmod ((p << 16 | s) + 4, s an 11-bit
// signed number since PostgreSQL 15); nullopt for an unconstrained numeric.
std::optional<int> NumericScale(int typmod) {
  if (typmod < 4) return std::nullopt;
  int bits = (typmod - 4) & 0x7ff;
  return (bits ^ 1024) - 1024;
}

// `text` without a "+00" offset: timestamptz under TimeZone UTC prints one.
std::string_view WithoutUtcOffset(std::string_view text) {
  if (text.size() > 3 && text.substr(text.size() - 3) == "+00") text.remove_suffix(3);
  return text;
}

// Decimal text read exactly: digits beyond the type's scale must be zeros,
// never rounded away.
Expected<Value> ReadDecimal(std::string_view text, const bundle::ColumnType& type) {
  size_t dot = text.find('.');
  if (dot != std::string_view::npos) {
    std::string_view fraction = text.substr(dot + 1);
    for (size_t i = static_cast<size_t>(std::max(type.scale, 0)); i < fraction.size(); ++i) {
      if (fraction[i] != '0') {
        return InvalidArgumentError("value " + std::string(text) + " has more decimals than " +
                                    type.ToString() + " holds");
      }
    }
  }
  return endpoint::ValueFromText(text, type);
}

}  // namespace

Status TypeFits(const PgType& have, const bundle::ColumnType& want) {
  if (!KindFits(have.name, want.kind)) {
    return FailedPreconditionError(have.display + " cannot hold the bundle's " + want.ToString());
  }
  if (want.kind == ValueKind::kDecimal) {
    std::optional<int> scale = NumericScale(have.typmod);
    if (scale && *scale != want.scale) {
      return FailedPreconditionError(have.display + " has " + std::to_string(*scale) +
                                     " decimals, the bundle's " + want.ToString() + " has " +
                                     std::to_string(want.scale) +
                                     " (PostgreSQL would round them silently)");
    }
  }
  return Status::Ok();
}

Expected<Value> ReadPgText(std::string_view text, const bundle::ColumnType& type,
                           bool blank_padded) {
  switch (type.kind) {
    case ValueKind::kBool:
      if (text == "t") return Value::Bool(true);
      if (text == "f") return Value::Bool(false);
      return InvalidArgumentError("expected a bool (t or f), got '" + std::string(text) + "'");
    case ValueKind::kDecimal:
      return ReadDecimal(text, type);
    case ValueKind::kDateTime:
      return endpoint::ValueFromText(WithoutUtcOffset(text), type);
    case ValueKind::kString:
    case ValueKind::kRef:
      if (blank_padded) {
        while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
      }
      return endpoint::ValueFromText(text, type);
    default:
      return endpoint::ValueFromText(text, type);
  }
}

Expected<std::optional<std::string>> WritePgText(const Value& v) {
  switch (v.tag()) {
    case DUET_NULL:
      return std::optional<std::string>();
    case DUET_BOOL:
      return std::optional<std::string>(v.int_value() ? "t" : "f");
    case DUET_FLOAT:
      if (std::isnan(v.float_value())) return std::optional<std::string>();
      return std::optional<std::string>(value::FormatFloat(v.float_value()));
    case DUET_STRING:
      if (v.string_value().find('\0') != std::string::npos) {
        return FailedPreconditionError(
            "the text holds a NUL character, which PostgreSQL cannot store");
      }
      return std::optional<std::string>(v.string_value());
    case DUET_INT:
    case DUET_DECIMAL:
    case DUET_DATE:
    case DUET_DATETIME:
    case DUET_GUID:
      return std::optional<std::string>(v.ToText());
    default:
      return InvalidArgumentError("a value of tag " + std::to_string(v.tag()) +
                                  " cannot be written to a database");
  }
}

Status CheckKeyText(std::string_view text, const PgType& have) {
  bool fits = true;
  if (OneOf(have.name, {"int2", "int4", "int8"})) {
    std::optional<int64_t> i = value::ParseInt(text);
    int64_t bound = have.name == "int8" ? INT64_MAX : have.name == "int4" ? INT32_MAX : INT16_MAX;
    fits = i && *i <= bound && *i >= -bound - 1;
  } else if (have.name == "numeric") {
    fits = value::ParseDecimal(text, 0).has_value();
  } else if (have.name == "uuid") {
    fits = value::ParseGuid(text).has_value();
  } else if (have.name == "date") {
    fits = value::ParseDate(text).has_value();
  } else if (OneOf(have.name, {"timestamp", "timestamptz"})) {
    fits = value::ParseDateTime(WithoutUtcOffset(text)).has_value();
  } else if (have.name == "bool") {
    fits = text == "t" || text == "f";
  }
  fits = fits && text.find('\0') == std::string_view::npos;
  if (fits) return Status::Ok();
  return InvalidArgumentError("'" + value::EscapeInvalidUtf8(text.substr(0, 200)) +
                              "' is not a value of " + have.display);
}

std::string ArrayLiteral(const std::vector<std::string>& texts) {
  std::string out = "{";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (char c : texts[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace duet::pg
