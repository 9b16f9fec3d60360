#include "runtime/endpoint/postgres/capture_option.h"

#include <optional>
#include <vector>

namespace duet::pg {
namespace {

constexpr std::string_view kOption = "duet_capture";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// A keyword=value pair of a keyword string: where it begins and ends in the
// string, its keyword and its value (unquoted).
struct Pair {
  size_t begin = 0;
  size_t end = 0;
  std::string key;
  std::string value;
};

// The pairs of a keyword string, as libpq reads them (values in single
// quotes with backslash escapes, or up to the next space); nullopt when it
// is not one (libpq will say why).
std::optional<std::vector<Pair>> KeywordPairs(std::string_view s) {
  std::vector<Pair> pairs;
  size_t i = 0;
  for (;;) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i == s.size()) return pairs;
    Pair p;
    p.begin = i;
    while (i < s.size() && s[i] != '=' && !IsSpace(s[i])) p.key.push_back(s[i++]);
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i == s.size() || s[i] != '=') return std::nullopt;
    ++i;
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i < s.size() && s[i] == '\'') {
      for (++i;; ++i) {
        if (i == s.size()) return std::nullopt;
        if (s[i] == '\\' && i + 1 < s.size()) {
          p.value.push_back(s[++i]);
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          p.value.push_back(s[i]);
        }
      }
    } else {
      while (i < s.size() && !IsSpace(s[i])) p.value.push_back(s[i++]);
    }
    p.end = i;
    pairs.push_back(std::move(p));
  }
}

Expected<CaptureKind> KindOf(std::string_view value) {
  if (value == "logical") return CaptureKind::kLogical;
  if (value == "triggers") return CaptureKind::kTriggers;
  return InvalidArgumentError("duet_capture='" + std::string(value.substr(0, 40)) +
                              "' in the connection string: it must be logical or triggers");
}

Expected<CaptureChoice> SplitUri(std::string_view uri) {
  CaptureChoice choice;
  size_t query = uri.find('?');
  if (query == std::string_view::npos) {
    choice.conninfo = std::string(uri);
    return choice;
  }
  std::string kept;
  bool seen = false;
  std::string_view rest = uri.substr(query + 1);
  while (true) {
    size_t amp = rest.find('&');
    std::string_view param = rest.substr(0, amp);
    size_t eq = param.find('=');
    if (param.substr(0, eq) == kOption) {
      if (seen) return InvalidArgumentError("duet_capture is twice in the connection string");
      seen = true;
      Expected<CaptureKind> kind =
          KindOf(eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1));
      if (!kind.ok()) return kind.status();
      choice.kind = *kind;
    } else if (!param.empty()) {
      kept += (kept.empty() ? "" : "&") + std::string(param);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  choice.conninfo = std::string(uri.substr(0, query)) + (kept.empty() ? "" : "?" + kept);
  return choice;
}

}  // namespace

Expected<CaptureChoice> SplitCaptureOption(std::string_view conninfo) {
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
    return SplitUri(conninfo);
  }
  CaptureChoice choice;
  choice.conninfo = std::string(conninfo);
  std::optional<std::vector<Pair>> pairs = KeywordPairs(conninfo);
  if (!pairs) return choice;
  bool seen = false;
  // From the last pair to the first, so that earlier spans stay valid.
  for (auto it = pairs->rbegin(); it != pairs->rend(); ++it) {
    if (it->key != kOption) continue;
    if (seen) return InvalidArgumentError("duet_capture is twice in the connection string");
    seen = true;
    Expected<CaptureKind> kind = KindOf(it->value);
    if (!kind.ok()) return kind.status();
    choice.kind = *kind;
    choice.conninfo.erase(it->begin, it->end - it->begin);
  }
  return choice;
}

}  // namespace duet::pg
