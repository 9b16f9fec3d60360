#include "runtime/endpoint/sqlite/seq_position.h"

#include <string>

namespace duet::sqlite {

endpoint::Position SeqPosition(int64_t seq) {
  if (seq <= 0) return endpoint::Position();
  std::string bytes(8, '\0');
  auto u = static_cast<uint64_t>(seq);
  for (int i = 7; i >= 0; --i) {
    bytes[static_cast<size_t>(i)] = static_cast<char>(u & 0xff);
    u >>= 8;
  }
  return endpoint::Position::FromBytes(std::move(bytes));
}

Expected<int64_t> PositionSeq(const endpoint::Position& position) {
  if (position.is_after_all()) {
    return InvalidArgumentError("a position after all changes cannot be read from");
  }
  const std::string& bytes = position.bytes();
  if (bytes.empty()) return int64_t{0};
  if (bytes.size() != 8 || (static_cast<unsigned char>(bytes[0]) & 0x80) != 0) {
    return InvalidArgumentError("the position '" + position.ToHex() +
                                "' is not one of this SQLite changelog's");
  }
  uint64_t u = 0;
  for (char c : bytes) u = (u << 8) | static_cast<unsigned char>(c);
  if (u == 0) {
    return InvalidArgumentError("the position '" + position.ToHex() +
                                "' is not one of this SQLite changelog's");
  }
  return static_cast<int64_t>(u);
}

}  // namespace duet::sqlite
