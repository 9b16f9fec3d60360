// The syntax stage: source text -> ast::SourceUnit, and loading a whole module
// (files, directories, imports). ANTLR and parse-tree types stay inside this
// folder; ANTLR exceptions never leave it.
#ifndef DUET_COMPILER_SYNTAX_PARSER_H_
#define DUET_COMPILER_SYNTAX_PARSER_H_

#include <cstddef>
#include <span>
#include <string>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/source.h"

namespace duet::syntax {

struct ParseOptions {
  // Brackets, and expressions nested through operators, may nest this deep.
  // The limit keeps recursion in the parser and in later stages bounded.
  size_t max_nesting = 256;
  // Syntax errors reported per file before the parser gives up on it.
  size_t max_syntax_errors = 20;
};

// Parses one file that is already in `sources` and known to be valid UTF-8
// without NUL bytes. Lexical and syntax errors are reported; on any error the
// returned unit is empty (a later stage never sees a half-built tree).
ast::SourceUnit ParseFile(const diag::SourceManager& sources, diag::FileId file,
                          const ParseOptions& options, diag::Diagnostics& diagnostics);

struct LoadOptions {
  ParseOptions parse;
  // Larger files are refused before they are read.
  size_t max_file_bytes = size_t{16} << 20;
  // Off for the fuzzer: an input cannot make the loader read other files.
  bool follow_imports = true;
};

// Loads the files named by `paths` (a directory stands for every *.duet file
// below it, in sorted order) and, transitively, every file they import. Each
// file is loaded once however often it is named or imported. Problems reading
// or decoding a file are diagnostics; the rest of the files still load.
ast::Module LoadModule(std::span<const std::string> paths, const LoadOptions& options,
                       diag::SourceManager& sources, diag::Diagnostics& diagnostics);

// Loads one file given as text (for the fuzzer, tests and editors); imports
// are resolved relative to `path`'s directory when options.follow_imports.
ast::Module LoadSource(const std::string& path, std::string contents, const LoadOptions& options,
                       diag::SourceManager& sources, diag::Diagnostics& diagnostics);

}  // namespace duet::syntax

#endif  // DUET_COMPILER_SYNTAX_PARSER_H_
