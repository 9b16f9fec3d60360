#include "runtime/endpoint/position.h"

#include <utility>

namespace duet::endpoint {

Position Position::FromBytes(std::string bytes) {
  Position p;
  p.bytes_ = std::move(bytes);
  return p;
}

Position Position::AfterAll() {
  Position p;
  p.after_all_ = true;
  return p;
}

Expected<Position> Position::FromHex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) {
    return InvalidArgumentError("a position '" + std::string(hex) + "' of an odd number of digits");
  }
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]);
    int lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("a position '" + std::string(hex) + "' that is not hex");
    }
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return FromBytes(std::move(bytes));
}

std::string Position::ToHex() const {
  if (after_all_) return "after-all";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes_.size() * 2);
  for (char c : bytes_) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string Position::ToString() const { return is_beginning() ? "beginning" : ToHex(); }

}  // namespace duet::endpoint
