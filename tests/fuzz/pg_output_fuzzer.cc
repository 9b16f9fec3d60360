// libFuzzer entry point: what capture by logical decoding reads from a
// PostgreSQL server (runtime/endpoint/postgres), which a faulty server or
// anything between it and duet can make any bytes:
// - the replication protocol's CopyData messages (ParseCopyData);
// - pgoutput messages (pgoutput::Parse), alone and as a stream: the input
//   split at the bytes ff fe fd fc into messages fed to a ChangeDecoder,
//   whose transactions must have increasing change indexes;
// - positions (DecodePosition), which the engine stores and passes back:
//   what decodes encodes to the same bytes.
// Every refusal must be a Status of the documented codes; no input may
// throw, crash or trip a sanitizer. Seeds: tests/fuzz/seeds/pg_output,
// messages a real server sent (tests/runtime/pg_output_test.cc).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/endpoint/postgres/change_decoder.h"
#include "runtime/endpoint/postgres/logical_capture.h"
#include "runtime/endpoint/postgres/pg_output.h"
#include "runtime/pg/replication_stream.h"

namespace {

void Require(bool holds, const char* contract) {
  if (holds) return;
  std::fprintf(stderr, "pg_output_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

std::vector<std::string_view> Split(std::string_view bytes) {
  static constexpr std::string_view kSeparator("\xff\xfe\xfd\xfc", 4);
  std::vector<std::string_view> out;
  for (;;) {
    size_t at = bytes.find(kSeparator);
    out.push_back(bytes.substr(0, at));
    if (at == std::string_view::npos) return out;
    bytes.remove_prefix(at + kSeparator.size());
  }
}

void CheckStream(std::string_view bytes) {
  duet::pg::ChangeDecoder decoder({{"fo.customer", "public", "customer", {"code"}},
                                   {"fo.line", "public", "line", {"order_no", "line_no"}},
                                   {"fo.whole", "public", "whole", {"code"}}});
  for (std::string_view message : Split(bytes)) {
    duet::Status s = decoder.Feed(message);
    Require(s.ok() || s.code() == duet::StatusCode::kInvalidArgument ||
                s.code() == duet::StatusCode::kFailedPrecondition,
            "a refused message is InvalidArgument or FailedPrecondition");
  }
  for (const duet::pg::DecodedTransaction& txn : decoder.TakeCommitted()) {
    for (size_t i = 1; i < txn.changes.size(); ++i) {
      Require(txn.changes[i].index > txn.changes[i - 1].index, "indexes increase");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto message = duet::pg::pgoutput::Parse(bytes);
  Require(message.ok() || message.status().code() == duet::StatusCode::kInvalidArgument,
          "malformed pgoutput is InvalidArgument");
  auto copy = duet::pg::ParseCopyData(bytes);
  Require(copy.ok() || copy.status().code() == duet::StatusCode::kInvalidArgument,
          "a malformed CopyData message is InvalidArgument");
  if (copy.ok()) {
    if (const auto* x = std::get_if<duet::pg::XLogData>(&*copy)) CheckStream(x->data);
  }
  CheckStream(bytes);
  auto position = duet::endpoint::Position::FromBytes(std::string(bytes));
  auto point = duet::pg::DecodePosition(position);
  if (point.ok() && point->has_value()) {
    Require(duet::pg::EncodePosition(**point) == position, "a position decodes and encodes back");
  }
  return 0;
}
