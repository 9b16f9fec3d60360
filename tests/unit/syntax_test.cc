// Unit tests of the syntax stage, through the public front end
// (frontend::CheckSource) and ast::DumpModule: every grammar construct, string
// escapes, number limits, byte-order marks and the lexical/syntax error codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"

namespace duet {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<frontend::Result> CheckText(std::string text) {
  frontend::Options options;
  options.load.follow_imports = false;
  options.check.warn_unused = false;
  return frontend::CheckSource("t.duet", std::move(text), options);
}

// Codes of the input and syntax stages (E00xx, E01xx); semantic errors of the
// checker are of no interest to a parser test.
std::vector<std::string> SyntaxCodes(const frontend::Result& result) {
  std::vector<std::string> codes;
  for (const diag::Diagnostic& d : result.diagnostics.all()) {
    std::string_view code = d.code();
    if (code.starts_with("E00") || code.starts_with("E01")) codes.emplace_back(code);
  }
  return codes;
}

std::string Rendered(const frontend::Result& result) {
  return diag::RenderText(result.diagnostics, result.sources, diag::RenderOptions{});
}

struct DumpCase {
  std::string name;
  std::string input;
  std::string dump;
};

void ExpectDumps(const std::vector<DumpCase>& cases) {
  for (const DumpCase& c : cases) {
    std::unique_ptr<frontend::Result> result = CheckText(c.input);
    EXPECT_TRUE(SyntaxCodes(*result).empty()) << c.name << "\n" << Rendered(*result);
    EXPECT_EQ(ast::DumpModule(result->module), c.dump) << c.name;
  }
}

TEST(Parse, Declarations) {
  ExpectDumps({
      {"import", "import \"common/systems.duet\";", "import \"common/systems.duet\"\n"},
      {"system", "system fo;", "system fo\n"},
      {"system with label", "system fo \"Finance and Operations\";",
       "system fo \"Finance and Operations\"\n"},
      {"quoted names", "system `my system`; table `my system`.`a table` { `a col` int; }",
       "system my system\ntable my system.a table\n  column a col int\n"},
      {"table",
       "table fo.T \"Label\" {\n"
       "  A string(4) not null;\n"
       "  B decimal(32, 6) null;\n"
       "  C ref fo.U;\n"
       "  D int default -5 local;\n"
       "  E bool default true;\n"
       "  F string default \"x\";\n"
       "  G decimal(5,2) default -1.50;\n"
       "  H date default null;\n"
       "  I bool not null default false;\n"
       "  id A;\n"
       "  key (A, B);\n"
       "}\n",
       "table fo.T \"Label\"\n"
       "  column A string(4) not null\n"
       "  column B decimal(32, 6)\n"
       "  column C ref fo.U\n"
       "  column D int default -5 local\n"
       "  column E bool default true\n"
       "  column F string default \"x\"\n"
       "  column G decimal(5, 2) default -1.50\n"
       "  column H date default null\n"
       "  column I bool not null default false\n"
       "  id A\n"
       "  key (A, B)\n"},
      {"empty table", "table fo.T {}", "table fo.T\n"},
      {"id and key declared twice are all kept", "table fo.T { id A; id B; key (A); key (B); }",
       "table fo.T\n  id A\n  id B\n  key (A)\n  key (B)\n"},
      {"extend table", "extend table fo.T { Z guid; key (Z); }",
       "extend table fo.T\n  column Z guid\n  key (Z)\n"},
      {"value map", "valuemap status { \"a\" = 1, \"b\" = -2, * = 0, \"c\" = -1.5, null = * }",
       "valuemap status { \"a\" = 1, \"b\" = -2, * = 0, \"c\" = -1.5, null = * }\n"},
      {"value map, trailing comma", "valuemap flags { true = \"Y\", false = \"N\", }",
       "valuemap flags { true = \"Y\", false = \"N\" }\n"},
      {"empty value map", "valuemap nothing {}", "valuemap nothing { }\n"},
      {"map with every member",
       "map customers \"Customers\": fo.A <-> ce.B {\n"
       "  version 1.0.5;\n"
       "  master fo;\n"
       "  initial from fo;\n"
       "  filter fo: X == \"y\";\n"
       "  A <-> b;\n"
       "  C -> d values { \"x\" = 1 } master ce truncate;\n"
       "  E <- f values status;\n"
       "  G -> h.k deferred;\n"
       "}\n",
       "map customers \"Customers\": fo.A <-> ce.B\n"
       "  version 1.0.5\n"
       "  master fo\n"
       "  initial from fo\n"
       "  filter fo: (X == \"y\")\n"
       "  field A <-> b\n"
       "  field C -> d values { \"x\" = 1 } master ce truncate\n"
       "  field E <- f values status\n"
       "  field G -> h.k deferred\n"},
      {"map members are grouped by kind in the dump",
       "map m: fo.A -> ce.B { a -> b; initial none; filter ce: c; version 2.0.0; master newest; }",
       "map m: fo.A -> ce.B\n  version 2.0.0\n  master newest\n  initial none\n  filter ce: c\n  "
       "field a -> b\n"},
      {"four-part version", "map m: fo.A -> ce.B { version 1.0.0.5; }",
       "map m: fo.A -> ce.B\n  version 1.0.0.5\n"},
      {"every field option at once",
       "map m: fo.A <-> ce.B { a <-> b.c values v master fo truncate deferred; }",
       "map m: fo.A <-> ce.B\n  field a <-> b.c values v master fo truncate deferred\n"},
      {"one-way to left", "map m: fo.A <- ce.B { }", "map m: fo.A <- ce.B\n"},
      {"extend map", "extend map customers { X -> y; Z <-> z master fo; }",
       "extend map customers\n  field X -> y\n  field Z <-> z master fo\n"},
      {"test with rows",
       "test customers \"flows\" {\n"
       "  given fo { A = \"x\", B.c = -3, D = 1.5, }\n"
       "  expect ce { e = true };\n"
       "}\n",
       "test customers \"flows\"\n  given fo { A = \"x\", B.c = -3, D = 1.5 }\n  expect ce { e = "
       "true }\n"},
      {"test expecting filtered", "test customers { given fo {} expect filtered; }",
       "test customers\n  given fo { }\n  expect filtered\n"},
      {"test expecting an error", "test m { given fo { a = null }; expect error \"boom\"; }",
       "test m\n  given fo { a = null }\n  expect error \"boom\"\n"},
      {"test expecting any error", "test m { given fo { } expect error; }",
       "test m\n  given fo { }\n  expect error\n"},
      {"comments are ignored", "// line\nsystem /* inline */ fo; /* multi\nline */ system ce;\n",
       "system fo\nsystem ce\n"},
      {"items of each kind in one file", "test m { } map m: a.b -> c.d { } system x; table x.y { }",
       "system x\ntable x.y\nmap m: a.b -> c.d\ntest m\n"},
  });
}

// Expressions, printed fully parenthesised by ast::ExprToString: precedence
// and associativity of every operator.
TEST(Parse, Expressions) {
  struct ExprCase {
    std::string input;
    std::string printed;
  };
  const std::vector<ExprCase> cases = {
      // Primaries.
      {"a", "a"},
      {"a.b.c", "a.b.c"},
      {"`my col`", "my col"},
      {"42", "42"},
      {"0", "0"},
      {"3.14", "3.14"},
      {"\"s\"", "\"s\""},
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {"f()", "f()"},
      {"concat(a, \"b\", 1.5)", "concat(a, \"b\", 1.5)"},
      {"upper(trim(x))", "upper(trim(x))"},
      {"(a)", "a"},
      // Arithmetic: * / % bind tighter than + -, all left-associative.
      {"a + b * c", "(a + (b * c))"},
      {"a * b + c", "((a * b) + c)"},
      {"a - b - c", "((a - b) - c)"},
      {"a / b % c", "((a / b) % c)"},
      {"(a + b) * c", "((a + b) * c)"},
      // Unary minus binds tightest.
      {"-a * b", "(-a * b)"},
      {"-(a + b)", "-(a + b)"},
      {"-1", "-1"},
      {"a - -1", "(a - -1)"},
      // Comparisons bind looser than arithmetic.
      {"a == b", "(a == b)"},
      {"a != b", "(a != b)"},
      {"a < b", "(a < b)"},
      {"a <= b", "(a <= b)"},
      {"a > b", "(a > b)"},
      {"a >= b", "(a >= b)"},
      {"a + 1 == b * 2", "((a + 1) == (b * 2))"},
      // is null, in.
      {"a is null", "(a is null)"},
      {"a is not null", "(a is not null)"},
      {"a.b is null", "(a.b is null)"},
      {"a in (1, 2, 3)", "(a in (1, 2, 3))"},
      {"a not in (\"x\")", "(a not in (\"x\"))"},
      {"a + 1 in (2)", "((a + 1) in (2))"},
      // not, and, or.
      {"not a", "not a"},
      {"not a == b", "not (a == b)"},
      {"not a and b", "(not a and b)"},
      {"a and b or c", "((a and b) or c)"},
      {"a or b and c", "(a or (b and c))"},
      {"a and b and c", "((a and b) and c)"},
      {"a is null and b > 1", "((a is null) and (b > 1))"},
      // if binds loosest; branches nest.
      {"if a then 1 else 2", "(if a then 1 else 2)"},
      {"if a then if b then 1 else 2 else 3", "(if a then (if b then 1 else 2) else 3)"},
      {"if a or b then x + 1 else y", "(if (a or b) then (x + 1) else y)"},
  };
  for (const ExprCase& c : cases) {
    std::string input = "map m: a.b -> c.d { " + c.input + " -> x; }";
    std::unique_ptr<frontend::Result> result = CheckText(input);
    EXPECT_TRUE(SyntaxCodes(*result).empty()) << c.input << "\n" << Rendered(*result);
    EXPECT_EQ(ast::DumpModule(result->module),
              "map m: a.b -> c.d\n  field " + c.printed + " -> x\n")
        << c.input;
  }
}

TEST(Parse, ExpressionRangesCoverTheirText) {
  std::unique_ptr<frontend::Result> result =
      CheckText("map m: a.b -> c.d {\n  upper(x) + (y) -> z;\n}");
  ASSERT_EQ(result->module.units.size(), 1u);
  ASSERT_EQ(result->module.units[0].maps.size(), 1u);
  const ast::FieldMapping& field = result->module.units[0].maps[0].fields[0];
  EXPECT_EQ(field.left->range.begin, (diag::SourceLocation{2, 3}));
  EXPECT_EQ(field.left->range.end, (diag::SourceLocation{2, 17}));
  const auto& sum = std::get<ast::BinaryExpr>(field.left->node);
  EXPECT_EQ(sum.op_range.begin, (diag::SourceLocation{2, 12}));
  // The parentheses belong to the operand's range.
  EXPECT_EQ(sum.rhs->range.begin, (diag::SourceLocation{2, 14}));
  EXPECT_EQ(sum.rhs->range.end, (diag::SourceLocation{2, 17}));
  EXPECT_EQ(field.direction_range.begin, (diag::SourceLocation{2, 18}));
}

// ---- strings ----

TEST(Parse, StringEscapesAreResolved) {
  std::unique_ptr<frontend::Result> result = CheckText(R"(system fo "q\"b\\s\nn\tt\rr";)");
  ASSERT_TRUE(SyntaxCodes(*result).empty()) << Rendered(*result);
  ASSERT_EQ(result->module.units[0].systems.size(), 1u);
  EXPECT_EQ(result->module.units[0].systems[0].label, std::string("q\"b\\s\nn\tt\rr"));
  // The dump escapes them again.
  EXPECT_EQ(ast::DumpModule(result->module), "system fo \"q\\\"b\\\\s\\nn\\tt\\rr\"\n");
}

TEST(Parse, MultiByteStringsArePreservedByteForByte) {
  std::string label = "Caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  std::unique_ptr<frontend::Result> result = CheckText("system fo \"" + label + "\";");
  ASSERT_TRUE(SyntaxCodes(*result).empty()) << Rendered(*result);
  EXPECT_EQ(result->module.units[0].systems[0].label, label);
}

struct ErrorCase {
  std::string name;
  std::string input;
  std::string code;
  uint32_t line;
  uint32_t column;
  std::string message;  // a substring
};

void ExpectFirstError(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    std::unique_ptr<frontend::Result> result = CheckText(c.input);
    ASSERT_FALSE(result->diagnostics.all().empty()) << c.name;
    const diag::Diagnostic& d = result->diagnostics.all()[0];
    EXPECT_EQ(d.code(), c.code) << c.name << "\n" << Rendered(*result);
    EXPECT_EQ(d.range.begin.line, c.line) << c.name << "\n" << Rendered(*result);
    EXPECT_EQ(d.range.begin.column, c.column) << c.name << "\n" << Rendered(*result);
    EXPECT_THAT(d.message, HasSubstr(c.message)) << c.name;
    // On any syntax-stage error the file contributes nothing to the module.
    EXPECT_EQ(ast::DumpModule(result->module), "") << c.name;
    EXPECT_FALSE(result->checked.has_value()) << c.name;
  }
}

TEST(Parse, BadEscapes) {
  ExpectFirstError({
      {"unknown escape", R"(system fo "a\qb";)", "E0105", 1, 13, "unknown escape sequence '\\q'"},
      // Columns count code points: é is one column.
      {"after multi-byte text", "system fo \"\xC3\xA9\\q\";", "E0105", 1, 13, "'\\q'"},
      {"on a later line", "system fo;\n  system ce \"ok \\x\";", "E0105", 2, 17, "'\\x'"},
      {"in a default", "table fo.T { a string default \"\\u0041\"; }", "E0105", 1, 32, "'\\u'"},
  });
}

// ---- numbers ----

TEST(Parse, NegativeConstants) {
  ExpectDumps({
      {"negative defaults",
       "table fo.T { a int default -5; b decimal(5, 2) default -1.50; c int default - 7; }",
       "table fo.T\n  column a int default -5\n  column b decimal(5, 2) default -1.50\n  column c "
       "int default -7\n"},
      {"negative value-map entries", "valuemap v { -1 = \"neg\", \"pos\" = -0.5 }",
       "valuemap v { -1 = \"neg\", \"pos\" = -0.5 }\n"},
      {"negative test values", "test m { given fo { a = -3, b = -2.25 } expect filtered; }",
       "test m\n  given fo { a = -3, b = -2.25 }\n  expect filtered\n"},
      // The most negative int64 is a constant, though its magnitude is not.
      {"int64 minimum", "table fo.T { a int default -9223372036854775808; }",
       "table fo.T\n  column a int default -9223372036854775808\n"},
      {"int64 maximum", "table fo.T { a int default 9223372036854775807; }",
       "table fo.T\n  column a int default 9223372036854775807\n"},
      {"38 significant decimal digits",
       "valuemap v { 1234567890123456789.0123456789012345678 = 1 }",
       "valuemap v { 1234567890123456789.0123456789012345678 = 1 }\n"},
      {"leading zeros are not significant",
       "valuemap v { 000000000001234567890123456789.0123456789012345678 = 1 }",
       "valuemap v { 000000000001234567890123456789.0123456789012345678 = 1 }\n"},
  });
}

TEST(Parse, NumbersOutOfRangeAreE0104) {
  ExpectFirstError({
      {"int64 overflow in a default", "table fo.T { a int default 9223372036854775808; }", "E0104",
       1, 28, "integer 9223372036854775808 does not fit in 64 bits"},
      {"int64 underflow in a constant", "table fo.T { a int default -9223372036854775809; }",
       "E0104", 1, 28, "integer -9223372036854775809 does not fit in 64 bits"},
      {"int64 overflow in an expression", "map m: a.b -> c.d {\n  99999999999999999999 -> x;\n}",
       "E0104", 2, 3, "99999999999999999999"},
      // -9223372036854775808 in an expression is negation of a literal that
      // does not fit.
      {"int64 minimum in an expression", "map m: a.b -> c.d { -9223372036854775808 -> x; }",
       "E0104", 1, 22, "9223372036854775808"},
      {"int64 overflow in a test row",
       "test m { given fo { a = 18446744073709551616 } expect filtered; }", "E0104", 1, 25,
       "18446744073709551616"},
      {"int64 overflow in a type argument", "table fo.T { a string(99999999999999999999); }",
       "E0104", 1, 23, "does not fit in 64 bits"},
      {"39 significant decimal digits",
       "valuemap v { 1234567890123456789.01234567890123456789 = 1 }", "E0104", 1, 14,
       "has 39 digits; at most 38 are allowed"},
  });
}

// ---- byte-order mark ----

TEST(Parse, ByteOrderMarkIsIgnored) {
  const std::string bom = "\xEF\xBB\xBF";
  std::unique_ptr<frontend::Result> with = CheckText(bom + "system fo;\ntable fo.T { a int; }\n");
  std::unique_ptr<frontend::Result> without = CheckText("system fo;\ntable fo.T { a int; }\n");
  EXPECT_TRUE(SyntaxCodes(*with).empty()) << Rendered(*with);
  EXPECT_EQ(ast::DumpModule(with->module), ast::DumpModule(without->module));
  // The mark is one code point, so "fo" is at column 9 of line 1.
  EXPECT_EQ(with->module.units[0].systems[0].name.range.begin, (diag::SourceLocation{1, 9}));
}

TEST(Parse, ByteOrderMarkKeepsColumnsOfErrorsOnLineOne) {
  std::unique_ptr<frontend::Result> result = CheckText("\xEF\xBB\xBFsystem fo; @");
  ASSERT_EQ(SyntaxCodes(*result), std::vector<std::string>{"E0103"});
  EXPECT_EQ(result->diagnostics.all()[0].range.begin, (diag::SourceLocation{1, 13}));
}

// ---- lexical, syntax and input errors ----

TEST(Parse, ErrorCodes) {
  ExpectFirstError({
      {"missing semicolon is reported after the previous token", "system fo\nsystem ce;", "E0100",
       1, 10, "expected ';' after name 'fo'"},
      {"unexpected token", "system fo;\ntable fo.T { a int; } }", "E0100", 2, 23, "unexpected '}'"},
      {"keyword as a name", "system table;", "E0100", 1, 8, "unexpected 'table'"},
      {"unterminated string", "system fo \"abc\n;", "E0101", 1, 11, "missing its closing quote"},
      {"unterminated comment", "system fo;\n/* never closed\n", "E0102", 2, 1, "never closed"},
      {"bad character", "system fo; #", "E0103", 1, 12, "unexpected character '#'"},
      {"single quote", "system fo 'x';", "E0103", 1, 11, "unexpected character '''"},
      {"duplicate option", "map m: a.b -> c.d { x -> y truncate truncate; }", "E0106", 1, 37,
       "'truncate' is given twice"},
      {"two value maps", "map m: a.b -> c.d { x -> y values v values { 1 = 2 }; }", "E0106", 1, 37,
       "'values' is given twice"},
      {"deferred twice", "map m: a.b -> c.d { x -> y deferred deferred; }", "E0106", 1, 37,
       "'deferred' is given twice"},
      {"null and not null", "table fo.T { a int not null null; }", "E0106", 1, 29,
       "both 'not null' and 'null'"},
      {"two defaults", "table fo.T { a int default 1 default 2; }", "E0106", 1, 30, "two defaults"},
      {"brackets nested too deep",
       "map m: a.b -> c.d { " + std::string(300, '(') + "x" + std::string(300, ')') + " -> y; }",
       "E0006", 1, 276, "256"},
      {"invalid UTF-8", "system fo;\n  \xC3(;", "E0003", 2, 3, "not valid UTF-8"},
      {"overlong UTF-8", "system \xC0\xAF;", "E0003", 1, 8, "0xC0"},
      {"UTF-16 surrogate", "system \xED\xA0\x80;", "E0003", 1, 8, "0xED"},
  });
}

TEST(Parse, NulByteInTheMiddle) {
  std::string text = "system fo;\nsys";
  text += '\0';
  text += "tem ce;";
  std::unique_ptr<frontend::Result> result = CheckText(text);
  ASSERT_EQ(SyntaxCodes(*result), std::vector<std::string>{"E0004"});
  EXPECT_EQ(result->diagnostics.all()[0].range.begin, (diag::SourceLocation{2, 4}));
}

TEST(Parse, OperatorChainsNestedTooDeepAreE0006) {
  // No brackets: a long chain of unary minus nests the parser instead.
  std::unique_ptr<frontend::Result> result =
      CheckText("map m: a.b -> c.d { " + std::string(2000, '-') + "x -> y; }");
  EXPECT_EQ(SyntaxCodes(*result), std::vector<std::string>{"E0006"}) << Rendered(*result);
}

TEST(Parse, EmptyFileIsAWarning) {
  for (const char* text : {"", "  \n\t\r\n"}) {
    std::unique_ptr<frontend::Result> result = CheckText(text);
    ASSERT_EQ(result->diagnostics.all().size(), 1u);
    EXPECT_EQ(result->diagnostics.all()[0].code(), "W0001");
    EXPECT_TRUE(result->ok());
  }
}

TEST(Parse, ImportsAreNotFollowedWhenDisabled) {
  std::unique_ptr<frontend::Result> result =
      CheckText("import \"does/not/exist.duet\";\nsystem fo;\n");
  EXPECT_TRUE(result->diagnostics.all().empty()) << Rendered(*result);
  EXPECT_EQ(result->sources.size(), 1u);
}

TEST(Parse, SyntaxErrorsAreCappedPerFile) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "system ;\n";
  std::unique_ptr<frontend::Result> result = CheckText(text);
  size_t syntax_errors = 0;
  for (const diag::Diagnostic& d : result->diagnostics.all()) syntax_errors += d.code() == "E0100";
  // 20 errors are shown, and a notice (a note or a diagnostic of its own)
  // says how many more there were.
  EXPECT_GE(syntax_errors, 20u) << Rendered(*result);
  EXPECT_LE(syntax_errors, 21u) << Rendered(*result);
  EXPECT_THAT(Rendered(*result), HasSubstr("20 more syntax errors"));
}

}  // namespace
}  // namespace duet
