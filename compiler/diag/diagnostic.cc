#include "compiler/diag/diagnostic.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

namespace duet::diag {
namespace {

constexpr std::array kInfos = {
#define DUET_DIAG(name, code, severity, summary) \
  DiagKindInfo{DiagKind::k##name, #name, code, Severity::k##severity, summary},
#include "compiler/diag/diagnostic_kinds.def"
#undef DUET_DIAG
};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

const DiagKindInfo& Info(DiagKind kind) { return kInfos[static_cast<size_t>(kind)]; }

std::span<const DiagKindInfo> AllDiagKinds() { return kInfos; }

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

Diagnostic& Diagnostic::AddNote(std::string note) {
  notes.push_back(Note{SourceRange{}, std::move(note)});
  return *this;
}

Diagnostic& Diagnostic::AddNote(SourceRange note_range, std::string note) {
  notes.push_back(Note{note_range, std::move(note)});
  return *this;
}

Diagnostic& Diagnostics::Report(DiagKind kind, SourceRange range, std::string message) {
  diagnostics_.push_back(Diagnostic{kind, Info(kind).severity, range, std::move(message), {}});
  return diagnostics_.back();
}

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(
      std::count_if(diagnostics_.begin(), diagnostics_.end(),
                    [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

size_t Diagnostics::warning_count() const { return diagnostics_.size() - error_count(); }

void Diagnostics::Sort(const SourceManager& sources) {
  auto key = [&](const Diagnostic& d) {
    std::string_view path =
        d.range.valid() ? std::string_view(sources.file(d.range.file).path()) : "";
    return std::tuple(d.range.valid(), path, d.range.begin, d.code());
  };
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
}

std::optional<std::string> ClosestMatch(std::string_view name,
                                        std::span<const std::string> candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(name, candidate);
    if (best == nullptr || distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  // A third of the name's length, at least one edit: "NAEM" -> "NAME" (2 for a
  // transposition) is found, "x" -> "accountid" is not.
  size_t limit = std::max<size_t>(1, (name.size() + 2) / 3);
  if (best == nullptr || best_distance > limit) return std::nullopt;
  return *best;
}

}  // namespace duet::diag
