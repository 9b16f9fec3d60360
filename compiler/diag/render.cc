#include "compiler/diag/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace duet::diag {
namespace {

struct Style {
  bool color;
  std::string_view Bold() const { return color ? "\033[1m" : ""; }
  std::string_view Red() const { return color ? "\033[1;31m" : ""; }
  std::string_view Yellow() const { return color ? "\033[1;33m" : ""; }
  std::string_view Cyan() const { return color ? "\033[1;36m" : ""; }
  std::string_view Green() const { return color ? "\033[1;32m" : ""; }
  std::string_view Reset() const { return color ? "\033[0m" : ""; }
};

// Code points in the first `bytes` bytes of `text`; continuation bytes do not
// start a character.
size_t CodePoints(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Byte offset of the 1-based code-point column `column` in `line`.
size_t ByteOffsetOfColumn(std::string_view line, uint32_t column) {
  size_t seen = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) {
      if (++seen == column) return i;
    }
  }
  return line.size();
}

// The line as it can be shown in a terminal: control characters and bytes
// that are not UTF-8 become '?', one for one, so columns still line up.
std::string Displayable(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  size_t i = 0;
  while (i < line.size()) {
    auto byte = static_cast<unsigned char>(line[i]);
    size_t length = byte < 0x80             ? 1
                    : (byte & 0xE0) == 0xC0 ? 2
                    : (byte & 0xF0) == 0xE0 ? 3
                    : (byte & 0xF8) == 0xF0 ? 4
                                            : 0;
    bool ok = length > 0 && i + length <= line.size();
    for (size_t k = 1; ok && k < length; ++k) {
      ok = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
    }
    if (!ok) {
      out += '?';
      ++i;
    } else if (length == 1 && ((byte < 0x20 && byte != '\t') || byte == 0x7F)) {
      out += '?';
      ++i;
    } else {
      out.append(line.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string Location(const SourceManager& sources, const SourceRange& range) {
  if (!range.valid()) return "duetc";
  const std::string& path = sources.file(range.file).path();
  if (!range.has_position()) return path;
  return fmt::format("{}:{}:{}", path, range.begin.line, range.begin.column);
}

// The source line and a caret line under the range. Tabs before the range are
// kept as tabs in the caret line so the caret lines up in any terminal.
void AppendSnippet(std::string& out, const SourceManager& sources, const SourceRange& range,
                   const Style& style) {
  if (!range.has_position()) return;
  const SourceFile& file = sources.file(range.file);
  std::string displayable = Displayable(file.Line(range.begin.line));
  std::string_view line = displayable;
  std::string number = std::to_string(range.begin.line);
  std::string gutter(number.size() + 1, ' ');
  // Very long lines (minified or generated input) are cut around the caret.
  constexpr size_t kMaxShown = 200;
  size_t begin_byte = ByteOffsetOfColumn(line, range.begin.column);
  size_t end_byte =
      range.end.line == range.begin.line ? ByteOffsetOfColumn(line, range.end.column) : line.size();
  end_byte = std::max(end_byte, std::min(begin_byte + 1, line.size()));
  size_t shown_from = 0;
  if (begin_byte > kMaxShown / 2 && line.size() > kMaxShown) {
    shown_from = begin_byte - kMaxShown / 4;
    while (shown_from > 0 && (static_cast<unsigned char>(line[shown_from]) & 0xC0) == 0x80)
      --shown_from;
  }
  std::string_view shown = line.substr(shown_from, kMaxShown);
  bool cut_front = shown_from > 0;
  bool cut_back = shown_from + shown.size() < line.size();
  out += fmt::format("{}{} |{} {}{}{}\n", style.Cyan(), number, style.Reset(),
                     cut_front ? "..." : "", shown, cut_back ? "..." : "");
  std::string pad = cut_front ? "   " : "";
  std::string_view before = line.substr(shown_from, begin_byte - shown_from);
  for (char c : before) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) continue;
    pad += c == '\t' ? '\t' : ' ';
  }
  size_t visible_end = std::min(end_byte, shown_from + shown.size());
  size_t width =
      begin_byte < visible_end ? CodePoints(line.substr(begin_byte, visible_end - begin_byte)) : 1;
  out += fmt::format("{}{}|{} {}{}{}{}\n", style.Cyan(), gutter, style.Reset(), pad, style.Green(),
                     std::string(std::max<size_t>(width, 1), '^'), style.Reset());
}

// The diagnostics printed under the cap: the cap counts errors; warnings are
// printed while the cap has not been reached, so a warning early in a file
// never hides the errors after it.
std::vector<const Diagnostic*> Shown(const Diagnostics& diagnostics, const RenderOptions& options) {
  std::vector<const Diagnostic*> shown;
  size_t errors = 0;
  for (const Diagnostic& d : diagnostics.all()) {
    if (options.max_diagnostics != 0 && errors >= options.max_diagnostics) break;
    shown.push_back(&d);
    if (d.severity == Severity::kError) ++errors;
  }
  return shown;
}

std::string Plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::string RenderText(const Diagnostics& diagnostics, const SourceManager& sources,
                       const RenderOptions& options) {
  Style style{options.color};
  std::string out;
  std::vector<const Diagnostic*> shown = Shown(diagnostics, options);
  for (const Diagnostic* shown_diagnostic : shown) {
    const Diagnostic& d = *shown_diagnostic;
    bool error = d.severity == Severity::kError;
    out +=
        fmt::format("{}{}:{} {}{}[{}]:{} {}{}{}\n", style.Bold(), Location(sources, d.range),
                    style.Reset(), error ? style.Red() : style.Yellow(), SeverityName(d.severity),
                    d.code(), style.Reset(), style.Bold(), d.message, style.Reset());
    AppendSnippet(out, sources, d.range, style);
    for (const Note& note : d.notes) {
      if (note.range.valid()) {
        out += fmt::format("{}{}:{} {}note:{} {}\n", style.Bold(), Location(sources, note.range),
                           style.Reset(), style.Cyan(), style.Reset(), note.message);
        AppendSnippet(out, sources, note.range, style);
      } else {
        out += fmt::format("  {}= note:{} {}\n", style.Cyan(), style.Reset(), note.message);
      }
    }
  }
  size_t omitted = diagnostics.all().size() - shown.size();
  if (omitted > 0) {
    out += fmt::format("{}note:{} {} not shown (raise the limit with --max-errors)\n", style.Cyan(),
                       style.Reset(), Plural(omitted, "more diagnostic"));
  }
  size_t errors = diagnostics.error_count();
  size_t warnings = diagnostics.warning_count();
  if (errors + warnings > 0) {
    out += fmt::format("{}{}, {}{}\n", style.Bold(), Plural(errors, "error"),
                       Plural(warnings, "warning"), style.Reset());
  }
  return out;
}

std::string RenderJson(const Diagnostics& diagnostics, const SourceManager& sources,
                       const RenderOptions& options) {
  auto place = [&](nlohmann::json& object, const SourceRange& range) {
    if (!range.valid()) return;
    object["file"] = sources.file(range.file).path();
    if (!range.has_position()) return;
    object["line"] = range.begin.line;
    object["column"] = range.begin.column;
    object["end_line"] = range.end.line;
    object["end_column"] = range.end.column;
  };
  nlohmann::json list = nlohmann::json::array();
  std::vector<const Diagnostic*> shown = Shown(diagnostics, options);
  for (const Diagnostic* shown_diagnostic : shown) {
    const Diagnostic& d = *shown_diagnostic;
    nlohmann::json item = {{"severity", SeverityName(d.severity)},
                           {"code", d.code()},
                           {"kind", Info(d.kind).name},
                           {"message", d.message}};
    place(item, d.range);
    if (d.range.has_position()) {
      item["source_line"] = sources.file(d.range.file).Line(d.range.begin.line);
    }
    nlohmann::json notes = nlohmann::json::array();
    for (const Note& note : d.notes) {
      nlohmann::json n = {{"message", note.message}};
      place(n, note.range);
      notes.push_back(std::move(n));
    }
    item["notes"] = std::move(notes);
    list.push_back(std::move(item));
  }
  nlohmann::json root = {{"diagnostics", std::move(list)},
                         {"errors", diagnostics.error_count()},
                         {"warnings", diagnostics.warning_count()},
                         {"omitted", diagnostics.all().size() - shown.size()}};
  // Invalid UTF-8 in a source line must not make the dump throw.
  return root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace duet::diag
