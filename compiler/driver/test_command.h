// `duetc test`: runs the map unit tests (`test` blocks) of checked map files.
#ifndef DUET_COMPILER_DRIVER_TEST_COMMAND_H_
#define DUET_COMPILER_DRIVER_TEST_COMMAND_H_

#include <ostream>

#include "compiler/frontend/frontend.h"

namespace duet::driver {

struct TestSummary {
  int passed = 0;
  int failed = 0;
};

// Runs every test of `result` (which must have checked without errors),
// writing one line per test and a readable diff for each failure to `out`.
// `use_jit`: run through generated code (the default of `duetc test`),
// otherwise through the reference interpreter.
TestSummary RunMapTests(const frontend::Result& result, std::ostream& out, bool verbose,
                        bool use_jit);

}  // namespace duet::driver

#endif  // DUET_COMPILER_DRIVER_TEST_COMMAND_H_
