#include "runtime/state/store_fields.h"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace duet::state {

std::string NewStoreId() {
  std::random_device random;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(random()));
    out += part;
  }
  return out;
}

const char* PhaseName(MapPhase phase) {
  switch (phase) {
    case MapPhase::kNew:
      return "new";
    case MapPhase::kInitial:
      return "initial";
    case MapPhase::kLive:
      return "live";
  }
  return "new";
}

MapPhase ParsePhase(std::string_view text) {
  if (text == "initial") return MapPhase::kInitial;
  if (text == "live") return MapPhase::kLive;
  return MapPhase::kNew;
}

Expected<double> StoredTime(std::string_view text, const std::string& what) {
  std::optional<double> t = ParseIso(text);
  if (!t)
    return DataLossError("state store: " + what + " is not a time: '" + std::string(text) + "'");
  return *t;
}

std::string CountsText(const LatencyHistogram& h) {
  std::string out;
  for (size_t i = 0; i < h.counts.size(); ++i) out += (i ? "," : "") + std::to_string(h.counts[i]);
  return out;
}

LatencyHistogram ParseCounts(std::string_view text, int64_t n) {
  LatencyHistogram h;
  size_t i = 0;
  while (!text.empty() && i < h.counts.size()) {
    size_t comma = text.find(',');
    std::string part(text.substr(0, comma));
    h.counts[i++] = std::strtoll(part.c_str(), nullptr, 10);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  h.n = n;
  return h;
}

std::string BacklogKey(const std::string& map) { return "backlog " + map; }

std::string BacklogText(const RecordedBacklog& backlog) {
  char at[32];
  std::snprintf(at, sizeof at, "%.3f", backlog.at);
  std::string out = at;
  for (const auto& [system, n] : backlog.changes) {
    out += "\t" + system + "\t" + std::to_string(n);
  }
  return out;
}

Expected<RecordedBacklog> ParseBacklog(std::string_view text) {
  std::vector<std::string> fields;
  for (size_t tab; (tab = text.find('\t')) != std::string_view::npos; text.remove_prefix(tab + 1)) {
    fields.emplace_back(text.substr(0, tab));
  }
  fields.emplace_back(text);
  auto whole = [](const std::string& field, int64_t* out) {
    char* end = nullptr;
    *out = std::strtoll(field.c_str(), &end, 10);
    return !field.empty() && *end == '\0';
  };
  RecordedBacklog backlog;
  char* end = nullptr;
  backlog.at = std::strtod(fields[0].c_str(), &end);
  bool ok = fields.size() % 2 == 1 && !fields[0].empty() && *end == '\0';
  for (size_t i = 1; ok && i < fields.size(); i += 2) {
    ok = whole(fields[i + 1], &backlog.changes[fields[i]]);
  }
  if (!ok) return DataLossError("the state store's recorded backlog is damaged");
  return backlog;
}

namespace {

int64_t Integer(std::string_view text) {
  return std::strtoll(std::string(text).c_str(), nullptr, 10);
}

}  // namespace

Expected<ErrorItem> ErrorItemFromColumns(const std::function<std::string_view(int)>& column) {
  ErrorItem e;
  e.id = Integer(column(0));
  e.map = std::string(column(1));
  e.system = std::string(column(2));
  e.row_id = std::string(column(3));
  e.kind = std::string(column(4));
  e.reason = std::string(column(5));
  e.source_row = std::string(column(6));
  e.other_id = std::string(column(7));
  e.other_row = std::string(column(8));
  e.detail = std::string(column(9));
  e.attempts = Integer(column(10));
  std::string item = "error item " + std::to_string(e.id);
  Expected<double> first = StoredTime(column(11), item + "'s first_at");
  if (!first.ok()) return first.status();
  Expected<double> last = StoredTime(column(12), item + "'s last_at");
  if (!last.ok()) return last.status();
  e.first_at = *first;
  e.last_at = *last;
  std::optional<ItemStatus> status = ParseItemStatus(column(13));
  if (!status) {
    return DataLossError("state store: " + item + " has status '" + std::string(column(13)) + "'");
  }
  e.status = *status;
  std::optional<ItemRequest> request = ItemRequest::Parse(column(14));
  if (!request) {
    return DataLossError("state store: " + item + " has request '" + std::string(column(14)) + "'");
  }
  e.request = std::move(*request);
  e.closed_by = std::string(column(15));
  return e;
}

}  // namespace duet::state
