#include "runtime/base/redact.h"

#include <array>
#include <cctype>

namespace duet {
namespace {

constexpr std::string_view kHidden = "***";

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The user information's password: between the first ':' after "://" and
// the last '@' before the query. A '/' in the password does not end it
// (over-redacting a path with an '@' is the safe mistake).
std::string RedactUserInfo(std::string_view text) {
  size_t scheme = text.find("://");
  if (scheme == std::string_view::npos) return std::string(text);
  size_t start = scheme + 3;
  size_t query = text.find_first_of("?#", start);
  size_t at = text.substr(0, query).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  size_t colon = text.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(text);
  return std::string(text.substr(0, colon + 1)) + std::string(kHidden) +
         std::string(text.substr(at));
}

bool IsSecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 4> kKeys = {"password", "passwd", "pwd",
                                                            "sslpassword"};
  for (std::string_view k : kKeys) {
    if (EqualsIgnoringCase(key, k)) return true;
  }
  return false;
}

// Where the value starting at `begin` ends: a quoted value at its closing
// quote (a doubled or backslashed quote stays inside), else at a separator.
size_t ValueEnd(std::string_view text, size_t begin) {
  if (begin < text.size() && (text[begin] == '\'' || text[begin] == '"')) {
    char quote = text[begin];
    for (size_t i = begin + 1; i < text.size(); ++i) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == quote) {
        if (i + 1 < text.size() && text[i + 1] == quote) {
          ++i;
        } else {
          return i + 1;
        }
      }
    }
    return text.size();
  }
  size_t end = text.find_first_of("&; \t\r\n#", begin);
  return end == std::string_view::npos ? text.size() : end;
}

bool IsKeyChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Every `KEY=VALUE` whose key is a secret's, wherever the key starts a
// word: after the start, '?', '&', ';', or white space.
std::string RedactParameters(std::string_view text) {
  std::string out;
  size_t copied = 0;
  for (size_t eq = text.find('='); eq != std::string_view::npos; eq = text.find('=', eq + 1)) {
    size_t key_end = eq;
    while (key_end > copied && std::isspace(static_cast<unsigned char>(text[key_end - 1]))) {
      --key_end;
    }
    size_t key_begin = key_end;
    while (key_begin > copied && IsKeyChar(text[key_begin - 1])) --key_begin;
    if (!IsSecretKey(text.substr(key_begin, key_end - key_begin))) continue;
    size_t value = eq + 1;
    while (value < text.size() && (text[value] == ' ' || text[value] == '\t')) ++value;
    size_t end = ValueEnd(text, value);
    out += text.substr(copied, value - copied);
    out += kHidden;
    copied = end;
    eq = end == 0 ? 0 : end - 1;
  }
  out += text.substr(copied);
  return out;
}

}  // namespace

std::string RedactConnectionString(std::string_view text) {
  return RedactParameters(RedactUserInfo(text));
}

}  // namespace duet
