// User mistakes in map files are data: a Diagnostic has a kind (with a stable
// code), a range, a message and notes. Stages append to one Diagnostics list;
// nothing stops at the first error.
#ifndef DUET_COMPILER_DIAG_DIAGNOSTIC_H_
#define DUET_COMPILER_DIAG_DIAGNOSTIC_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/source.h"

namespace duet::diag {

enum class Severity { kError, kWarning };

enum class DiagKind : uint16_t {
#define DUET_DIAG(name, code, severity, summary) k##name,
#include "compiler/diag/diagnostic_kinds.def"
#undef DUET_DIAG
};

struct DiagKindInfo {
  DiagKind kind;
  std::string_view name;  // "UnknownColumn"
  std::string_view code;  // "E0202"
  Severity severity;
  std::string_view summary;
};

const DiagKindInfo& Info(DiagKind kind);
std::span<const DiagKindInfo> AllDiagKinds();
std::string_view SeverityName(Severity severity);

struct Note {
  SourceRange range;  // may be invalid: a note without a place
  std::string message;
};

struct Diagnostic {
  DiagKind kind;
  Severity severity;
  SourceRange range;
  std::string message;
  std::vector<Note> notes;

  std::string_view code() const { return Info(kind).code; }
  Diagnostic& AddNote(std::string message);
  Diagnostic& AddNote(SourceRange range, std::string message);
};

class Diagnostics {
 public:
  // Appends a diagnostic of `kind` at its kind's severity. The reference is
  // valid until the next Report.
  Diagnostic& Report(DiagKind kind, SourceRange range, std::string message);

  const std::vector<Diagnostic>& all() const { return diagnostics_; }
  // For adding notes to a diagnostic reported earlier.
  Diagnostic& At(size_t index) { return diagnostics_[index]; }
  size_t error_count() const;
  size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }

  // Orders by file path, then position, then code, so output does not depend
  // on the order in which stages ran. Stable for equal keys.
  void Sort(const SourceManager& sources);

 private:
  std::vector<Diagnostic> diagnostics_;
};

// The closest candidate to `name` by edit distance (case-insensitive), if it
// is close enough to be a plausible typo; for "did you mean" notes.
std::optional<std::string> ClosestMatch(std::string_view name,
                                        std::span<const std::string> candidates);

}  // namespace duet::diag

#endif  // DUET_COMPILER_DIAG_DIAGNOSTIC_H_
