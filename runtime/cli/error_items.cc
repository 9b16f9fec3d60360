#include "runtime/cli/error_items.h"

#include <fmt/format.h>

#include "runtime/base/json_dump.h"
#include "runtime/value/ops.h"

namespace duet::cli {
namespace {

using nlohmann::json;

// Rows duet stores nest two or three levels; printing JSON recurses once a
// level, so text that nests deeper than this is shown as text.
constexpr int kMaxNesting = 64;

// Whether the brackets of `text` (outside strings) nest deeper than `limit`.
bool NestsDeeperThan(const std::string& text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

json JsonOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  if (NestsDeeperThan(text, kMaxNesting)) return json(text);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(text) : j;
}

}  // namespace

state::ErrorItem Shown(state::ErrorItem e) {
  for (std::string* text :
       {&e.map, &e.system, &e.row_id, &e.other_id, &e.kind, &e.reason, &e.source_row, &e.other_row,
        &e.detail, &e.request.take, &e.closed_by}) {
    *text = value::EscapeInvalidUtf8(*text);
  }
  return e;
}

json ItemJson(const state::ErrorItem& e, const std::string& to) {
  return json{{"id", e.id},
              {"map", e.map},
              {"from", e.system},
              {"to", to},
              {"row_id", e.row_id},
              {"other_id", e.other_id.empty() ? json(nullptr) : json(e.other_id)},
              {"kind", e.kind},
              {"reason", e.reason},
              {"status", state::ItemStatusName(e.status)},
              {"attempts", e.attempts},
              {"first_at", state::IsoAt(e.first_at)},
              {"last_at", state::IsoAt(e.last_at)},
              {"source_row", JsonOrNull(e.source_row)},
              {"other_row", JsonOrNull(e.other_row)},
              {"detail", JsonOrNull(e.detail)},
              {"request", e.request.empty() ? json(nullptr) : json(e.request.Text())},
              {"closed_by", e.closed_by.empty() ? json(nullptr) : json(e.closed_by)}};
}

std::string ItemText(const state::ErrorItem& e, const std::string& to) {
  json j = ItemJson(e, to);
  std::string out = fmt::format("item {} ({})\n", e.id, state::ItemStatusName(e.status));
  out += fmt::format("  map:       {}, {} -> {}\n", e.map, e.system, to);
  out += fmt::format("  rows:      {} row {}, {} row {}\n", e.system, e.row_id, to,
                     e.other_id.empty() ? "(none)" : e.other_id);
  out += fmt::format("  kind:      {}\n  reason:    {}\n", e.kind, e.reason);
  out += fmt::format("  attempts:  {} (first {}, last {})\n", e.attempts, state::IsoAt(e.first_at),
                     state::IsoAt(e.last_at));
  if (!e.closed_by.empty()) out += fmt::format("  closed by: {}\n", e.closed_by);
  if (!e.request.empty()) out += fmt::format("  requested: {}\n", e.request.Text());
  if (!j["source_row"].is_null()) {
    out += fmt::format("  {} row:\n{}\n", e.system, DumpJson(j["source_row"], 4));
  }
  if (!j["other_row"].is_null())
    out += fmt::format("  {} row:\n{}\n", to, DumpJson(j["other_row"], 4));
  if (!j["detail"].is_null()) out += fmt::format("  detail:\n{}\n", DumpJson(j["detail"], 4));
  return out;
}

}  // namespace duet::cli
