// A position in an endpoint's change stream (endpoint.h): opaque bytes whose
// bytewise order is the stream's order. Each endpoint chooses its encoding
// (SQLite: its changelog's seq as 8 bytes big-endian, sqlite/seq_position.h;
// PostgreSQL: an LSN) and refuses, with InvalidArgument, bytes it did not
// make. Everything else (the engine, the state store) only stores, compares
// and passes positions, and never computes one from another.
#ifndef DUET_RUNTIME_ENDPOINT_POSITION_H_
#define DUET_RUNTIME_ENDPOINT_POSITION_H_

#include <compare>
#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace duet::endpoint {

class Position {
 public:
  // The beginning of the stream: before every change.
  Position() = default;
  // The position an endpoint encoded as `bytes` (an empty string is the
  // beginning). Whether the bytes are well formed is the endpoint's to
  // decide when the position is passed back to it.
  static Position FromBytes(std::string bytes);
  // After every position an endpoint can return: a bound the engine holds
  // in memory for "not yet known, newer than anything read" (the position
  // of a link made in a batch that has not committed). It has no bytes and
  // is never stored nor passed to an endpoint.
  static Position AfterAll();
  // The inverse of ToHex; InvalidArgument for anything else.
  static Expected<Position> FromHex(std::string_view hex);

  const std::string& bytes() const { return bytes_; }
  bool is_beginning() const { return !after_all_ && bytes_.empty(); }
  bool is_after_all() const { return after_all_; }

  // Lower-case hex of the bytes ("" for the beginning; "after-all" for
  // AfterAll): for the state store's text forms, logs and status.
  std::string ToHex() const;
  // ToHex, but "beginning" for the beginning: for people.
  std::string ToString() const;

  friend bool operator==(const Position& a, const Position& b) {
    return a.after_all_ == b.after_all_ && a.bytes_ == b.bytes_;
  }
  friend std::strong_ordering operator<=>(const Position& a, const Position& b) {
    if (a.after_all_ || b.after_all_) return a.after_all_ <=> b.after_all_;
    // char_traits<char> compares as unsigned char: bytewise, like memcmp.
    int c = a.bytes_.compare(b.bytes_);
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
  }

 private:
  std::string bytes_;
  bool after_all_ = false;
};

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_POSITION_H_
