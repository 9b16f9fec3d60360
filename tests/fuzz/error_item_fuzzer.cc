// libFuzzer entry point: an error item of the state store, as `duet errors
// list` and `duet errors show` present it (runtime/cli/error_items.h). The
// stored texts may hold any bytes and the stored rows any text that may or
// may not be JSON (a state store edited by hand, a database's message). No
// input may throw, crash or trip a sanitizer; the JSON printed is valid
// JSON, and after Shown no byte of it is invalid UTF-8.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/base/json_dump.h"
#include "runtime/cli/error_items.h"
#include "runtime/state/state_store.h"

namespace {

void Require(bool holds, const char* contract) {
  if (holds) return;
  std::fprintf(stderr, "error_item_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  duet::state::ErrorItem item;
  item.id = in.ConsumeIntegral<int64_t>();
  item.attempts = in.ConsumeIntegral<int64_t>();
  // Times are any double (NaN, infinities, far past and future included).
  item.first_at = in.ConsumeFloatingPoint<double>();
  item.last_at = in.ConsumeFloatingPoint<double>();
  item.status =
      in.PickValueInArray({duet::state::ItemStatus::kOpen, duet::state::ItemStatus::kResolved,
                           duet::state::ItemStatus::kDiscarded});
  item.request.kind = in.PickValueInArray({duet::state::ItemRequest::Kind::kNone,
                                           duet::state::ItemRequest::Kind::kRetry,
                                           duet::state::ItemRequest::Kind::kTake});
  for (std::string* text :
       {&item.map, &item.system, &item.row_id, &item.kind, &item.reason, &item.other_id,
        &item.request.take, &item.closed_by, &item.detail, &item.other_row}) {
    *text = in.ConsumeRandomLengthString(256);
  }
  item.source_row = in.ConsumeRemainingBytesAsString();
  const std::string to = "ce";

  // Unescaped, the JSON may replace bytes, but printing it never fails.
  std::string raw = duet::DumpJson(duet::cli::ItemJson(item, to));
  Require(!nlohmann::json::parse(raw, nullptr, false).is_discarded(), "raw item JSON parses");

  duet::state::ErrorItem shown = duet::cli::Shown(item);
  std::string json = duet::cli::ItemJson(shown, to).dump();  // strict: must not throw
  Require(!nlohmann::json::parse(json, nullptr, false).is_discarded(), "item JSON parses");
  std::string text = duet::cli::ItemText(shown, to);
  Require(!text.empty(), "show prints the item");
  return 0;
}
