// Loading a module: paths and directories -> files -> encoding checks ->
// parse -> imports, each file once.
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "compiler/syntax/parser.h"

namespace duet::syntax {
namespace {

namespace fs = std::filesystem;
using diag::DiagKind;
using diag::Diagnostics;
using diag::SourceRange;

struct PendingFile {
  std::string path;                 // as shown in diagnostics
  std::optional<std::string> text;  // given in memory, not read from disk
  SourceRange imported_at;          // where an import named it, if it did
};

// Finds the first encoding problem: a NUL byte, or a byte sequence that is not
// well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF
// included). Reports it with its line and column and returns false.
bool CheckEncoding(const diag::SourceManager& sources, diag::FileId file,
                   Diagnostics& diagnostics) {
  const std::string& text = sources.file(file).contents();
  uint32_t line = 1;
  uint32_t column = 1;
  size_t i = 0;
  auto report = [&](DiagKind kind, std::string message) -> diag::Diagnostic& {
    return diagnostics.Report(kind, SourceRange{file, {line, column}, {line, column + 1}},
                              std::move(message));
  };
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0) {
      report(DiagKind::kNulByte, "file contains a NUL byte; map files are text");
      return false;
    }
    size_t length = 0;
    uint32_t min = 0;
    uint32_t code = 0;
    if (byte < 0x80) {
      length = 1;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2, min = 0x80, code = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3, min = 0x800, code = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4, min = 0x10000, code = byte & 0x07;
    }
    bool ok = length > 0 && i + length <= text.size();
    for (size_t k = 1; ok && k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    if (ok && length > 1)
      ok = code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (!ok) {
      if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
        report(DiagKind::kInvalidUtf8, "file is UTF-16, not UTF-8")
            .AddNote("save the file as UTF-8");
        return false;
      }
      report(DiagKind::kInvalidUtf8,
             fmt::format(
                 "file is not valid UTF-8: byte 0x{:02X} cannot start or continue a character here",
                 byte))
          .AddNote("save the file as UTF-8");
      return false;
    }
    if (byte == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += length;
  }
  return true;
}

class Loader {
 public:
  Loader(const LoadOptions& options, diag::SourceManager& sources, Diagnostics& diagnostics)
      : options_(options), sources_(sources), diagnostics_(diagnostics) {}

  void AddPath(const std::string& path) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      ReportFileProblem(DiagKind::kCannotReadFile, path, "no such file or directory", {});
      return;
    }
    if (!fs::is_directory(status)) {
      queue_.push_back(PendingFile{path, std::nullopt, {}});
      return;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".duet") {
        found.push_back(it->path().lexically_normal().string());
      }
    }
    if (ec) {
      ReportFileProblem(DiagKind::kCannotReadFile, path, ec.message(), {});
      return;
    }
    if (found.empty()) {
      ReportFileProblem(DiagKind::kNoMapFiles, path, "", {});
      return;
    }
    std::sort(found.begin(), found.end());
    for (std::string& file : found)
      queue_.push_back(PendingFile{std::move(file), std::nullopt, {}});
  }

  void AddSource(const std::string& path, std::string contents) {
    queue_.push_back(PendingFile{path, std::move(contents), {}});
  }

  ast::Module Run() {
    ast::Module module;
    while (!queue_.empty()) {
      PendingFile pending = std::move(queue_.front());
      queue_.pop_front();
      if (!seen_.insert(Identity(pending.path)).second) continue;
      std::optional<diag::FileId> file = Read(pending);
      if (!file) continue;
      if (!CheckEncoding(sources_, *file, diagnostics_)) continue;
      size_t errors_before = diagnostics_.error_count();
      ast::SourceUnit unit = ParseFile(sources_, *file, options_.parse, diagnostics_);
      if (unit.empty() && diagnostics_.error_count() == errors_before) {
        diagnostics_.Report(DiagKind::kEmptyFile, SourceRange{*file, {}, {}},
                            "file declares nothing: no systems, tables, maps or tests");
      }
      QueueImports(unit);
      module.units.push_back(std::move(unit));
    }
    return module;
  }

 private:
  // Two spellings of one file load it once.
  static std::string Identity(const std::string& path) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    return ec ? path : canonical.string();
  }

  void ReportFileProblem(DiagKind kind, const std::string& path, const std::string& reason,
                         SourceRange imported_at) {
    // The path is a file of its own in the source manager so that the
    // diagnostic prints with it even though it has no readable text.
    diag::FileId file = sources_.Add(path, "");
    std::string message;
    switch (kind) {
      case DiagKind::kNoMapFiles:
        message = fmt::format("directory '{}' contains no map files (*.duet)", path);
        break;
      case DiagKind::kImportNotFound:
        message = fmt::format("imported file '{}' does not exist", path);
        break;
      default:
        message = fmt::format("cannot read '{}': {}", path, reason);
    }
    auto& d = diagnostics_.Report(
        kind, imported_at.valid() ? imported_at : SourceRange{file, {}, {}}, std::move(message));
    if (kind == DiagKind::kImportNotFound)
      d.AddNote("import paths are relative to the importing file");
  }

  std::optional<diag::FileId> Read(const PendingFile& pending) {
    if (pending.text) {
      if (pending.text->size() > options_.max_file_bytes) {
        diag::FileId file = sources_.Add(pending.path, "");
        TooLarge(file, pending.text->size());
        return std::nullopt;
      }
      return sources_.Add(pending.path, *pending.text);
    }
    std::error_code ec;
    if (fs::is_directory(pending.path, ec)) {
      ReportFileProblem(DiagKind::kCannotReadFile, pending.path, "it is a directory",
                        pending.imported_at);
      return std::nullopt;
    }
    uintmax_t size = fs::file_size(pending.path, ec);
    if (ec) {
      DiagKind kind = pending.imported_at.valid() && !fs::exists(pending.path)
                          ? DiagKind::kImportNotFound
                          : DiagKind::kCannotReadFile;
      ReportFileProblem(kind, pending.path, ec.message(), pending.imported_at);
      return std::nullopt;
    }
    if (size > options_.max_file_bytes) {
      diag::FileId file = sources_.Add(pending.path, "");
      TooLarge(file, size);
      return std::nullopt;
    }
    std::ifstream in(pending.path, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    if (!in && !in.eof()) {
      ReportFileProblem(DiagKind::kCannotReadFile, pending.path, "read failed",
                        pending.imported_at);
      return std::nullopt;
    }
    return sources_.Add(pending.path, std::move(contents).str());
  }

  void TooLarge(diag::FileId file, uintmax_t size) {
    diagnostics_
        .Report(
            DiagKind::kFileTooLarge, SourceRange{file, {}, {}},
            fmt::format("file is {} bytes; the limit is {} bytes", size, options_.max_file_bytes))
        .AddNote("map files are written by people; split a generated file into several");
  }

  void QueueImports(const ast::SourceUnit& unit) {
    if (!options_.follow_imports) return;
    fs::path base = fs::path(sources_.file(unit.file).path()).parent_path();
    for (const ast::ImportDecl& import : unit.imports) {
      fs::path target =
          fs::path(import.path).is_absolute() ? fs::path(import.path) : base / import.path;
      queue_.push_back(PendingFile{target.lexically_normal().string(), std::nullopt, import.range});
    }
  }

  const LoadOptions& options_;
  diag::SourceManager& sources_;
  Diagnostics& diagnostics_;
  std::deque<PendingFile> queue_;
  std::set<std::string> seen_;
};

}  // namespace

ast::Module LoadModule(std::span<const std::string> paths, const LoadOptions& options,
                       diag::SourceManager& sources, Diagnostics& diagnostics) {
  Loader loader(options, sources, diagnostics);
  for (const std::string& path : paths) loader.AddPath(path);
  return loader.Run();
}

ast::Module LoadSource(const std::string& path, std::string contents, const LoadOptions& options,
                       diag::SourceManager& sources, Diagnostics& diagnostics) {
  Loader loader(options, sources, diagnostics);
  loader.AddSource(path, std::move(contents));
  return loader.Run();
}

}  // namespace duet::syntax
