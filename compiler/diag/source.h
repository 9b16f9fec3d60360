// Source files and positions. A position is (line, column), both 1-based;
// columns count Unicode code points, which is what the lexer counts and what
// lines up a caret under the text in a terminal.
#ifndef DUET_COMPILER_DIAG_SOURCE_H_
#define DUET_COMPILER_DIAG_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace duet::diag {

using FileId = int32_t;
inline constexpr FileId kNoFile = -1;

struct SourceLocation {
  uint32_t line = 0;  // 0: no position inside the file
  uint32_t column = 0;

  friend auto operator<=>(const SourceLocation&, const SourceLocation&) = default;
};

// [begin, end) in one file. A range with file == kNoFile points nowhere (for
// example, a command-line problem); one with begin.line == 0 names a whole file.
struct SourceRange {
  FileId file = kNoFile;
  SourceLocation begin;
  SourceLocation end;

  bool valid() const { return file != kNoFile; }
  bool has_position() const { return valid() && begin.line != 0; }
  // The smallest range covering both (same file assumed).
  SourceRange Through(const SourceRange& other) const;
};

class SourceFile {
 public:
  SourceFile(std::string path, std::string contents);

  const std::string& path() const { return path_; }
  const std::string& contents() const { return contents_; }
  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }
  // Text of a 1-based line, without its newline (and without a trailing \r).
  std::string_view Line(uint32_t line) const;

 private:
  std::string path_;
  std::string contents_;
  std::vector<uint32_t> line_starts_;
};

// Owns every file read in one compilation. FileIds index into it and stay
// valid for its lifetime.
class SourceManager {
 public:
  FileId Add(std::string path, std::string contents);
  const SourceFile& file(FileId id) const { return *files_[static_cast<size_t>(id)]; }
  size_t size() const { return files_.size(); }

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace duet::diag

#endif  // DUET_COMPILER_DIAG_SOURCE_H_
