#include "compiler/diag/source.h"

#include <algorithm>

namespace duet::diag {

SourceRange SourceRange::Through(const SourceRange& other) const {
  if (!valid()) return other;
  if (!other.valid()) return *this;
  SourceRange out = *this;
  out.begin = std::min(begin, other.begin);
  out.end = std::max(end, other.end);
  return out;
}

SourceFile::SourceFile(std::string path, std::string contents)
    : path_(std::move(path)), contents_(std::move(contents)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < contents_.size(); ++i) {
    if (contents_[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
  }
}

std::string_view SourceFile::Line(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  size_t begin = line_starts_[line - 1];
  size_t end = line < line_starts_.size() ? line_starts_[line] - 1 : contents_.size();
  std::string_view text(contents_.data() + begin, end - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

FileId SourceManager::Add(std::string path, std::string contents) {
  files_.push_back(std::make_unique<SourceFile>(std::move(path), std::move(contents)));
  return static_cast<FileId>(files_.size() - 1);
}

}  // namespace duet::diag
