#include "tests/golden/line_diff.h"

#include <algorithm>
#include <string>

namespace duet::golden {
namespace {

constexpr std::string_view kNoNewline = "\\ No newline at end of file";

enum class Op { kKeep, kRemove, kAdd };

struct Edit {
  Op op;
  size_t expected_line;  // 0-based index into expected (kKeep, kRemove)
  size_t actual_line;    // 0-based index into actual (kKeep, kAdd)
};

// Lines of `text`, plus a marker line when the text does not end in '\n', so
// that a lost trailing newline shows up as a changed line.
std::vector<std::string> DiffLines(std::string_view text) {
  std::vector<std::string> lines = SplitLines(text);
  if (!text.empty() && text.back() != '\n') lines.emplace_back(kNoNewline);
  return lines;
}

// Edit script by longest common subsequence. Golden outputs are at most a few
// hundred lines, so the quadratic table is cheap; past a size limit the whole
// of both texts is shown as replaced rather than spending the memory.
std::vector<Edit> EditScript(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<Edit> edits;
  constexpr size_t kMaxCells = size_t{4} << 20;
  if ((a.size() + 1) * (b.size() + 1) > kMaxCells) {
    for (size_t i = 0; i < a.size(); ++i) edits.push_back({Op::kRemove, i, 0});
    for (size_t j = 0; j < b.size(); ++j) edits.push_back({Op::kAdd, a.size(), j});
    return edits;
  }
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  std::vector<std::vector<size_t>> lcs(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      edits.push_back({Op::kKeep, i++, j++});
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // Removals before additions, as diff(1) prints a replaced line.
      edits.push_back({Op::kRemove, i++, j});
    } else {
      edits.push_back({Op::kAdd, i, j++});
    }
  }
  return edits;
}

// "start,count" of a hunk side, 1-based as diff(1) prints it; an empty side
// names the line before it.
std::string HunkRange(size_t first, size_t count) {
  return std::to_string(count == 0 ? first : first + 1) + "," + std::to_string(count);
}

}  // namespace

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string UnifiedDiff(std::string_view expected, std::string_view actual,
                        std::string_view expected_label, std::string_view actual_label,
                        size_t context) {
  if (expected == actual) return "";
  std::vector<std::string> a = DiffLines(expected);
  std::vector<std::string> b = DiffLines(actual);
  std::vector<Edit> edits = EditScript(a, b);

  std::string out;
  out.append("--- ").append(expected_label).append("\n");
  out.append("+++ ").append(actual_label).append("\n");
  size_t k = 0;
  while (k < edits.size()) {
    // Find the next change, then grow the hunk while changes are closer
    // than two contexts apart.
    while (k < edits.size() && edits[k].op == Op::kKeep) ++k;
    if (k == edits.size()) break;
    size_t begin = k >= context ? k - context : 0;
    size_t end = k;
    while (end < edits.size()) {
      if (edits[end].op != Op::kKeep) {
        ++end;
        continue;
      }
      size_t run = end;
      while (run < edits.size() && edits[run].op == Op::kKeep) ++run;
      if (run == edits.size() || run - end > 2 * context) {
        end = std::min(run, end + context);
        break;
      }
      end = run;
    }
    size_t expected_count = 0;
    size_t actual_count = 0;
    for (size_t e = begin; e < end; ++e) {
      expected_count += edits[e].op != Op::kAdd;
      actual_count += edits[e].op != Op::kRemove;
    }
    out += "@@ -" + HunkRange(edits[begin].expected_line, expected_count) + " +" +
           HunkRange(edits[begin].actual_line, actual_count) + " @@\n";
    for (size_t e = begin; e < end; ++e) {
      switch (edits[e].op) {
        case Op::kKeep:
          out += " " + a[edits[e].expected_line] + "\n";
          break;
        case Op::kRemove:
          out += "-" + a[edits[e].expected_line] + "\n";
          break;
        case Op::kAdd:
          out += "+" + b[edits[e].actual_line] + "\n";
          break;
      }
    }
    k = end;
  }
  return out;
}

}  // namespace duet::golden
