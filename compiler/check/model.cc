#include "compiler/check/model.h"

#include <fmt/format.h>

namespace duet::check {

Type Constant::type() const {
  switch (kind) {
    case TypeKind::kDecimal: {
      size_t point = text.find('.');
      int scale = point == std::string::npos ? 0 : static_cast<int>(text.size() - point - 1);
      int digits = 0;
      for (char c : text) digits += c >= '0' && c <= '9';
      return Type::Decimal(std::max(digits, 1), scale);
    }
    case TypeKind::kString: {
      int64_t length = 0;
      for (char c : text) length += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      return Type::String(length);
    }
    default: {
      Type t;
      t.kind = kind;
      return t;
    }
  }
}

std::string Constant::ToString() const {
  switch (kind) {
    case TypeKind::kNull: return "null";
    case TypeKind::kBool: return bool_value ? "true" : "false";
    case TypeKind::kInt: return std::to_string(int_value);
    case TypeKind::kDecimal: return text;
    case TypeKind::kString: {
      std::string out = "\"";
      for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    default: return text;
  }
}

std::optional<int> Table::FindColumn(const std::string& column) const {
  auto it = column_index.find(column);
  if (it == column_index.end()) return std::nullopt;
  return it->second;
}

bool Flows(Direction direction, Side from) {
  switch (direction) {
    case Direction::kBoth: return true;
    case Direction::kToRight: return from == Side::kLeft;
    case Direction::kToLeft: return from == Side::kRight;
  }
  return false;
}

std::string Version::ToString() const { return fmt::format("{}.{}.{}", major, minor, patch); }

std::optional<int> CheckedModule::FindTable(const std::string& qualified_name) const {
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].qualified_name == qualified_name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<int> CheckedModule::FindMap(const std::string& name) const {
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace duet::check
