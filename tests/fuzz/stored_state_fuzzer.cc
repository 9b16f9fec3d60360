// libFuzzer entry point: the readers of values duet stored and reads back,
// which a damaged or hand-edited state store can hold any bytes of:
// - a link's base (runtime/engine/base_codec.h): Decode either accepts the
//   bytes or says they are not a base; what it accepts encodes to bytes
//   that decode to the same encoding again (a fixed point after one round);
// - a RowId of each key encoding (runtime/endpoint/sqlite/row_key.h):
//   DecodeRowId gives as many values as the key has, or InvalidArgument.
// No input may throw, crash or trip a sanitizer.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/endpoint/sqlite/row_key.h"
#include "runtime/engine/base_codec.h"

namespace {

namespace base_codec = duet::engine::base_codec;

void Require(bool holds, const char* contract) {
  if (holds) return;
  std::fprintf(stderr, "stored_state_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    static const char* kDigits = "0123456789abcdef";
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

base_codec::Vectors PointersOf(const base_codec::Decoded& d) {
  base_codec::Vectors v;
  for (int s = 0; s < 2; ++s) {
    for (const auto& value : d.p[s]) v.p[s].push_back(&value);
    for (const auto& value : d.c[s]) v.c[s].push_back(&value);
  }
  return v;
}

void CheckBase(const std::string& bytes) {
  base_codec::Decoded first;
  if (!base_codec::Decode(bytes, &first)) return;
  std::string encoded = base_codec::Encode(PointersOf(first));
  base_codec::Decoded second;
  Require(base_codec::Decode(encoded, &second), "an encoded base decodes");
  std::string again = base_codec::Encode(PointersOf(second));
  if (again != encoded) {
    std::fprintf(stderr, "stored_state_fuzzer: first encoding %s\n  second %s\n",
                 Hex(encoded).c_str(), Hex(again).c_str());
  }
  Require(again == encoded, "encoding is a fixed point");
}

void CheckRowId(FuzzedDataProvider& in) {
  using duet::endpoint::RowKey;
  int columns = in.ConsumeIntegralInRange<int>(0, 3);
  std::vector<std::string> names, types;
  static const char* kTypes[] = {"INTEGER", "TEXT", "REAL", "BLOB", "NUMERIC", ""};
  for (int i = 0; i < columns; ++i) {
    names.push_back("k" + std::to_string(i));
    types.push_back(kTypes[in.ConsumeIntegralInRange<int>(0, 5)]);
  }
  RowKey key = duet::endpoint::MakeRowKey(names, types, in.ConsumeBool());
  std::string id = in.ConsumeRemainingBytesAsString();
  auto values = duet::endpoint::DecodeRowId(key, id);
  if (values.ok()) Require(values->size() == key.size(), "a RowId has one value per key column");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    CheckBase(in.ConsumeRemainingBytesAsString());
  } else {
    CheckRowId(in);
  }
  return 0;
}
