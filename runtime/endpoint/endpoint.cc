#include "runtime/endpoint/endpoint.h"

namespace duet::endpoint {

Expected<std::vector<Expected<RowId>>> WriteTransaction::InsertMany(
    const std::string& table, const std::vector<std::string>& columns,
    const std::vector<std::vector<Value>>& rows) {
  std::vector<Expected<RowId>> out;
  out.reserve(rows.size());
  for (const std::vector<Value>& row : rows) {
    Expected<RowId> id = Insert(table, columns, row);
    // A refused row is that row's outcome; anything else loses the
    // transaction, and with it every row.
    if (!id.ok() && id.status().code() != StatusCode::kFailedPrecondition) return id.status();
    out.push_back(std::move(id));
  }
  return out;
}

Status CaptureHeldError(std::string_view context, std::string_view detail) {
  return UnavailableError(std::string(context) + ": " + std::string(kCaptureHeld) + " (" +
                          std::string(detail) + ")");
}

bool IsCaptureHeld(const Status& status) {
  return status.code() == StatusCode::kUnavailable &&
         status.message().find(kCaptureHeld) != std::string::npos;
}

Expected<std::vector<std::optional<RowId>>> Endpoint::FindRows(
    const std::string& table, const std::vector<std::string>& columns,
    const std::vector<std::vector<Value>>& keys) {
  std::vector<std::optional<RowId>> out;
  out.reserve(keys.size());
  for (const std::vector<Value>& key : keys) {
    Expected<std::optional<RowId>> id = FindRow(table, columns, key);
    if (!id.ok()) return id.status();
    out.push_back(std::move(*id));
  }
  return out;
}

Expected<std::optional<int64_t>> Endpoint::CaptureRetainedBytes() {
  return std::optional<int64_t>();
}

}  // namespace duet::endpoint
