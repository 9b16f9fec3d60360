// The check stage: ast::Module -> CheckedModule. Resolves every name, types
// every expression and enforces the rules of the language (docs/language.md),
// reporting every problem it finds rather than stopping at the first.
#ifndef DUET_COMPILER_CHECK_CHECKER_H_
#define DUET_COMPILER_CHECK_CHECKER_H_

#include "compiler/ast/ast.h"
#include "compiler/check/model.h"
#include "compiler/diag/diagnostic.h"

namespace duet::check {

struct CheckOptions {
  // W0100/W0102/W0103: columns, tables and value maps no map uses.
  bool warn_unused = true;
};

// Checks `module`. The result is complete only when no error was reported;
// after an error it holds what could be resolved and must not be compiled.
CheckedModule Check(const ast::Module& module, const CheckOptions& options,
                    diag::Diagnostics& diagnostics);

}  // namespace duet::check

#endif  // DUET_COMPILER_CHECK_CHECKER_H_
