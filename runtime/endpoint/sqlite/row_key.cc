#include "runtime/endpoint/sqlite/row_key.h"

#include <cctype>
#include <charconv>
#include <system_error>

#include "runtime/endpoint/sqlite/sql_quote.h"

namespace duet::endpoint {
namespace {

using sqlite::QuoteIdentifier;

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// SQLite's affinity rule 2: a declared type naming CHAR, CLOB or TEXT (and
// not INT, rule 1) stores text as text.
bool TextAffinity(std::string_view declared) {
  std::string t = Upper(declared);
  if (t.find("INT") != std::string::npos) return false;
  return t.find("CHAR") != std::string::npos || t.find("CLOB") != std::string::npos ||
         t.find("TEXT") != std::string::npos;
}

// A reader of the JSON arrays json_array writes (no whitespace between
// tokens, but tolerated), one value at a time.
class JsonKeyReader {
 public:
  explicit JsonKeyReader(std::string_view text) : text_(text) {}

  bool Consume(char c) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

  // One element: null, a number, a string or {"blob":"HEX"}.
  bool Value(KeyParam* out) {
    SkipSpace();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '"') {
      out->kind = KeyParam::Kind::kText;
      return String(&out->s);
    }
    if (c == '{') return Blob(out);
    if (text_.substr(pos_, 4) == "null") {
      pos_ += 4;
      out->kind = KeyParam::Kind::kNull;
      return true;
    }
    return Number(out);
  }

 private:
  bool AtQuote() {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == '"';
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool Number(KeyParam* out) {
    size_t end = pos_;
    bool real = false;
    while (end < text_.size() &&
           std::string_view("+-0123456789.eE").find(text_[end]) != std::string_view::npos) {
      real = real || text_[end] == '.' || text_[end] == 'e' || text_[end] == 'E';
      ++end;
    }
    if (end == pos_) return false;
    const char* first = text_.data() + pos_;
    const char* last = text_.data() + end;
    std::from_chars_result r;
    if (real) {
      out->kind = KeyParam::Kind::kReal;
      r = std::from_chars(first, last, out->d);
    } else {
      out->kind = KeyParam::Kind::kInt;
      r = std::from_chars(first, last, out->i);
    }
    pos_ = end;
    return r.ec == std::errc() && r.ptr == last;
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool Hex4(uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return false;
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      int h = Hex(text_[pos_++]);
      if (h < 0) return false;
      *cp = *cp * 16 + static_cast<uint32_t>(h);
    }
    return true;
  }

  bool String(std::string* out) {
    out->clear();
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *out += e;
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t low;
            if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool Blob(KeyParam* out) {
    ++pos_;  // '{'
    std::string name;
    std::string hex;
    if (!AtQuote() || !String(&name) || name != "blob" || !Consume(':')) return false;
    if (!AtQuote() || !String(&hex) || !Consume('}') || hex.size() % 2 != 0) return false;
    out->kind = KeyParam::Kind::kBlob;
    out->s.clear();
    for (size_t i = 0; i < hex.size(); i += 2) {
      int hi = Hex(hex[i]);
      int lo = Hex(hex[i + 1]);
      if (hi < 0 || lo < 0) return false;
      out->s += static_cast<char>(hi * 16 + lo);
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string RowKey::Column(std::string_view alias, size_t i) const {
  std::string name = kind == Kind::kRowid ? "rowid" : QuoteIdentifier(columns[i]);
  return alias.empty() ? name : std::string(alias) + "." + name;
}

std::string RowKey::Columns(std::string_view alias) const {
  std::string out;
  for (size_t i = 0; i < size(); ++i) out += (i ? ", " : "") + Column(alias, i);
  return out;
}

std::string RowKey::Expr(std::string_view alias) const {
  if (kind != Kind::kJson) return Column(alias, 0);
  std::string out = "json_array(";
  for (size_t i = 0; i < size(); ++i) {
    std::string c = Column(alias, i);
    out += (i ? ", " : "") + ("CASE typeof(" + c + ") WHEN 'blob' THEN json_object('blob', hex(" +
                              c + ")) ELSE " + c + " END");
  }
  return out + ")";
}

std::string RowKey::Compare(std::string_view alias, std::string_view op, int first) const {
  std::string params;
  for (size_t i = 0; i < size(); ++i) {
    params += (i ? ", ?" : "?") + std::to_string(first + static_cast<int>(i));
  }
  if (size() == 1) return Column(alias, 0) + " " + std::string(op) + " " + params;
  return "(" + Columns(alias) + ") " + std::string(op) + " (" + params + ")";
}

std::string RowKey::Same(std::string_view a, std::string_view b) const {
  std::string out;
  for (size_t i = 0; i < size(); ++i) {
    out += (i ? " AND " : "") + Column(a, i) + " IS " + Column(b, i);
  }
  return out;
}

RowKey MakeRowKey(std::vector<std::string> columns, const std::vector<std::string>& types,
                  bool without_rowid) {
  RowKey key;
  key.without_rowid = without_rowid;
  if (columns.empty() || (columns.size() == 1 && !without_rowid && Upper(types[0]) == "INTEGER")) {
    return key;  // kRowid
  }
  key.kind =
      columns.size() == 1 && TextAffinity(types[0]) ? RowKey::Kind::kText : RowKey::Kind::kJson;
  key.columns = std::move(columns);
  return key;
}

Expected<std::vector<KeyParam>> DecodeRowId(const RowKey& key, std::string_view id) {
  auto malformed = [&]() {
    return InvalidArgumentError(
        "'" + std::string(id) + "' is not a row id of this table (" +
        (key.kind == RowKey::Kind::kRowid ? "a rowid"
         : key.kind == RowKey::Kind::kText
             ? "a text key"
             : "a JSON array of " + std::to_string(key.size()) + " key values") +
        ")");
  };
  std::vector<KeyParam> out(1);
  switch (key.kind) {
    case RowKey::Kind::kRowid: {
      out[0].kind = KeyParam::Kind::kInt;
      auto r = std::from_chars(id.data(), id.data() + id.size(), out[0].i);
      if (id.empty() || r.ec != std::errc() || r.ptr != id.data() + id.size()) return malformed();
      return out;
    }
    case RowKey::Kind::kText:
      out[0].kind = KeyParam::Kind::kText;
      out[0].s = std::string(id);
      return out;
    case RowKey::Kind::kJson:
      break;
  }
  out.clear();
  JsonKeyReader reader(id);
  if (!reader.Consume('[')) return malformed();
  for (size_t i = 0; i < key.size(); ++i) {
    if (i && !reader.Consume(',')) return malformed();
    KeyParam p;
    if (!reader.Value(&p)) return malformed();
    out.push_back(std::move(p));
  }
  if (!reader.Consume(']') || !reader.AtEnd()) return malformed();
  return out;
}

}  // namespace duet::endpoint
