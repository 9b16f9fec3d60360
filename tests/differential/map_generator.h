// Random, well-typed map files in the language's text syntax, so a
// differential run exercises the whole front end as well as both engines.
//
// A generated module declares two systems `a` and `b`, one source table
// a.T with a nullable column of every type (and an int key `rid`), and per
// map a target table b.U<n> with one column per field, typed to accept the
// field's expression (some string(5) columns, some with `truncate`, some
// `not null`, some decimal columns narrower than the expression). Each map
// is one-way, `a.T -> b.U<n>`, may have a filter, has 10-20 computed fields of
// depth up to 5 using every operator and builtin, some with value maps (with
// and without a `*` default), and writes the key last.
//
// Typing follows compiler/check/types.cc and builtins.cc: the generator asks
// the checker's own rules (ArithmeticType, CommonType, ResolveCall) for the
// type of each expression it builds. A generated file the checker rejects is
// a bug of this generator.
#ifndef DUET_TESTS_DIFFERENTIAL_MAP_GENERATOR_H_
#define DUET_TESTS_DIFFERENTIAL_MAP_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace duet::differential {

struct GeneratorOptions {
  int maps = 30;
  int min_fields = 10;
  int max_fields = 20;
  int max_depth = 5;
  // Null-typed arithmetic in a non-numeric context (`abs(null) -> string
  // column`, `to_string(-null)`, `abs(null) is null`): lowering gives such
  // nodes the context's kind, and code generation crashes on them (see
  // ops_test.cc, NullTypedArithmetic*), so it is off until that is fixed.
  bool null_typed_numeric = false;
  // Decimal value-map keys with more integer digits than the operand's scale
  // leaves room for (38 - scale): lowering turns such a key into a null
  // constant, which the interpreter matches against 0 and generated code
  // never matches (ops_test.cc, OpsKnownBugs.ValueMapKeyOutOfRange), so it
  // is off until that is fixed.
  bool unrepresentable_decimal_keys = false;
  // Quoted column names that are long or not ASCII (they appear in error
  // messages).
  bool odd_column_names = true;
};

struct GeneratedModule {
  std::string text;  // the whole file
  // Per map, in declaration order: a file of its own with the systems, the
  // source table, its target table and the map; printed for a mismatch.
  std::vector<std::string> map_texts;
  std::vector<std::string> map_names;
};

GeneratedModule GenerateModule(uint64_t seed, const GeneratorOptions& options);

// The header every generated module starts with: systems and source table.
std::string SourceDeclarations();

// Escapes `s` as a string literal of the language ("..." with \" \\ \n \t \r).
std::string QuoteString(const std::string& s);

}  // namespace duet::differential

#endif  // DUET_TESTS_DIFFERENTIAL_MAP_GENERATOR_H_
