// A line diff for golden-test failures: shows how the actual output differs
// from the expected file in the familiar unified style, so a reviewer sees the
// changed diagnostics instead of two walls of text.
#ifndef DUET_TESTS_GOLDEN_LINE_DIFF_H_
#define DUET_TESTS_GOLDEN_LINE_DIFF_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace duet::golden {

// Splits `text` into lines without their '\n'. A final line without a newline
// is kept and marked by the caller-visible "\ No newline at end of file" in
// UnifiedDiff, so that a missing trailing newline is not an invisible diff.
std::vector<std::string> SplitLines(std::string_view text);

// Unified-style diff of `expected` -> `actual` with `context` unchanged lines
// around each change: "--- expected_label", "+++ actual_label", then hunks of
// " kept", "-only expected", "+only actual" lines under "@@ -a,b +c,d @@"
// headers. Returns "" when the texts are equal.
std::string UnifiedDiff(std::string_view expected, std::string_view actual,
                        std::string_view expected_label, std::string_view actual_label,
                        size_t context = 3);

}  // namespace duet::golden

#endif  // DUET_TESTS_GOLDEN_LINE_DIFF_H_
