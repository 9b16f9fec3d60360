// Reading PostgreSQL's wire formats (network byte order integers,
// NUL-terminated strings) from bytes the server sent, with every length
// checked: a read past the end fails and leaves the reader failed, never
// reads out of bounds. For the replication protocol (replication_stream.h)
// and pgoutput (runtime/endpoint/postgres/pg_output.h).
#ifndef DUET_RUNTIME_PG_WIRE_READER_H_
#define DUET_RUNTIME_PG_WIRE_READER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace duet::pg {

class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : bytes_(bytes) {}

  // Each returns false (and fails the reader) when too few bytes are left.
  bool U8(uint8_t* out) { return Unsigned(1, out); }
  bool U16(uint16_t* out) { return Unsigned(2, out); }
  bool U32(uint32_t* out) { return Unsigned(4, out); }
  bool U64(uint64_t* out) { return Unsigned(8, out); }
  bool I64(int64_t* out) {
    uint64_t u = 0;
    if (!U64(&u)) return false;
    std::memcpy(out, &u, sizeof u);
    return true;
  }
  // `n` bytes as they are.
  bool Bytes(size_t n, std::string_view* out) {
    if (!ok_ || bytes_.size() - at_ < n) return Fail();
    *out = bytes_.substr(at_, n);
    at_ += n;
    return true;
  }
  // A NUL-terminated string (without its NUL).
  bool CString(std::string* out) {
    if (!ok_) return false;
    size_t nul = bytes_.find('\0', at_);
    if (nul == std::string_view::npos) return Fail();
    out->assign(bytes_.substr(at_, nul - at_));
    at_ = nul + 1;
    return true;
  }

  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? bytes_.size() - at_ : 0; }
  std::string_view rest() const { return ok_ ? bytes_.substr(at_) : std::string_view(); }

 private:
  template <typename T>
  bool Unsigned(size_t n, T* out) {
    if (!ok_ || bytes_.size() - at_ < n) return Fail();
    T value = 0;
    for (size_t i = 0; i < n; ++i) {
      value = static_cast<T>((value << 8) | static_cast<unsigned char>(bytes_[at_ + i]));
    }
    at_ += n;
    *out = value;
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

  std::string_view bytes_;
  size_t at_ = 0;
  bool ok_ = true;
};

// `value` as `n` bytes in network byte order, appended to `out`.
inline void PutBigEndian(uint64_t value, int n, std::string* out) {
  for (int i = n - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace duet::pg

#endif  // DUET_RUNTIME_PG_WIRE_READER_H_
