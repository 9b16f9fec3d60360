// ANTLR glue and the parse tree -> AST builder.
#include "compiler/syntax/parser.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <exception>
#include <optional>
#include <set>
#include <string_view>

#include "DuetLexer.h"
#include "DuetParser.h"
#include "antlr4-runtime.h"

namespace duet::syntax {
namespace {

using diag::DiagKind;
using diag::Diagnostics;
using diag::SourceLocation;
using diag::SourceRange;
using grammar::DuetLexer;
using grammar::DuetParser;

size_t CodePointCount(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

SourceLocation Begin(const antlr4::Token* token) {
  return {static_cast<uint32_t>(token->getLine()),
          static_cast<uint32_t>(token->getCharPositionInLine() + 1)};
}

SourceLocation End(const antlr4::Token* token) {
  SourceLocation loc = Begin(token);
  if (token->getType() == antlr4::Token::EOF) return loc;
  loc.column += static_cast<uint32_t>(CodePointCount(token->getText()));
  return loc;
}

// Every way of nesting too deeply (brackets, prefix operators, operator
// chains) is reported the same way.
void ReportNesting(Diagnostics& diagnostics, const SourceRange& range, size_t limit) {
  diagnostics
      .Report(DiagKind::kNestingTooDeep, range,
              fmt::format("expression nests too deeply (more than {} levels)", limit))
      .AddNote("split it with intermediate mappings or simplify it");
}

// Thrown by the nesting guard to abandon a parse; caught in ParseFile after
// the token stream is gone, so it carries positions, not tokens.
struct NestingTooDeep {
  SourceLocation begin;
  SourceLocation end;
};

// Counts rule nesting while the parser runs, so that prefix operators and
// brackets cannot drive the recursive-descent parser into a stack overflow.
class NestingGuard : public antlr4::tree::ParseTreeListener {
 public:
  NestingGuard(antlr4::Parser* parser, size_t limit) : parser_(parser), limit_(limit) {}
  void enterEveryRule(antlr4::ParserRuleContext*) override {
    if (++depth_ > limit_) {
      const antlr4::Token* at = parser_->getCurrentToken();
      throw NestingTooDeep{Begin(at), End(at)};
    }
  }
  void exitEveryRule(antlr4::ParserRuleContext*) override { --depth_; }
  void visitTerminal(antlr4::tree::TerminalNode*) override {}
  void visitErrorNode(antlr4::tree::ErrorNode*) override {}

 private:
  antlr4::Parser* parser_;
  size_t limit_;
  size_t depth_ = 0;
};

// What a token looks like to a person, for "unexpected X" messages.
std::string DescribeToken(const antlr4::Token* token) {
  switch (token->getType()) {
    case antlr4::Token::EOF:
      return "end of file";
    case DuetLexer::IDENT:
    case DuetLexer::QUOTED_IDENT:
      return fmt::format("name '{}'", token->getText());
    case DuetLexer::STRING:
      return fmt::format("string {}", token->getText());
    case DuetLexer::INT:
    case DuetLexer::DECIMAL:
      return fmt::format("number {}", token->getText());
    case DuetLexer::VERSION:
      return fmt::format("version {}", token->getText());
    default:
      return fmt::format("'{}'", token->getText());
  }
}

std::string DescribeExpected(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  switch (type) {
    case antlr4::Token::EOF:
      return "end of file";
    case DuetLexer::IDENT:
    case DuetLexer::QUOTED_IDENT:
      return "a name";
    case DuetLexer::STRING:
      return "a string";
    case DuetLexer::INT:
      return "an integer";
    case DuetLexer::DECIMAL:
      return "a decimal number";
    case DuetLexer::VERSION:
      return "a version such as 1.0.0";
    default:
      return vocabulary.getDisplayName(type);
  }
}

class SyntaxErrorCollector : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorCollector(diag::FileId file, Diagnostics& diagnostics, size_t limit)
      : file_(file), diagnostics_(diagnostics), limit_(limit) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t, size_t,
                   const std::string&, std::exception_ptr) override {
    if (offending == nullptr) return;  // lexer errors cannot happen: BAD_CHAR catches all
    // Error recovery often trips again on the rest of a broken line; the
    // first error of a line is the one worth reading.
    if (offending->getLine() == last_line_) return;
    last_line_ = offending->getLine();
    ++count_;
    if (count_ > limit_) return;
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    std::set<std::string> expected;
    bool semicolon_expected = false;
    if (parser != nullptr) {
      for (size_t type : parser->getExpectedTokens().toList()) {
        expected.insert(DescribeExpected(parser->getVocabulary(), type));
        semicolon_expected |= parser->getVocabulary().getDisplayName(type) == "';'";
      }
    }
    SourceRange range{file_, Begin(offending), End(offending)};
    // A missing ';' is reported at the end of the line that lacks it, not at
    // the start of the next statement.
    const antlr4::Token* previous = PreviousVisible(parser, offending);
    if (semicolon_expected && previous != nullptr && previous->getLine() < offending->getLine()) {
      SourceLocation after = End(previous);
      diagnostics_.Report(DiagKind::kSyntaxError,
                          SourceRange{file_, after, {after.line, after.column + 1}},
                          fmt::format("expected ';' after {}", DescribeToken(previous)));
      last_reported_ = diagnostics_.all().size() - 1;
      return;
    }
    std::string message = fmt::format("unexpected {}", DescribeToken(offending));
    std::string text = offending->getText();
    std::optional<std::string> hint;
    if (text == "=") {
      hint = "comparison is written '==', and mappings use '<->', '->' or '<-'";
    } else if (IsKeyword(parser, offending)) {
      hint = fmt::format("'{}' is a keyword; to use it as a name write it in backquotes: `{}`",
                         text, text);
    }
    // The tokens that can start an expression stand for "an expression".
    if (expected.contains("a name") && expected.contains("a string") &&
        expected.contains("an integer")) {
      for (const char* e : {"a name", "a string", "an integer", "a decimal number", "'('", "'-'",
                            "'not'", "'if'", "'true'", "'false'", "'null'"}) {
        expected.erase(e);
      }
      expected.insert("an expression");
    }
    if (!expected.empty() && expected.size() <= 8) {
      std::string list;
      for (const std::string& e : expected) list += (list.empty() ? "" : ", ") + e;
      message += fmt::format("; expected {}{}", expected.size() > 1 ? "one of " : "", list);
    }
    auto& d = diagnostics_.Report(DiagKind::kSyntaxError, range, std::move(message));
    if (hint) d.AddNote(*hint);
    last_reported_ = diagnostics_.all().size() - 1;
  }

  size_t count() const { return count_; }
  // Index of the last diagnostic this collector reported.
  std::optional<size_t> last_reported() const { return last_reported_; }

 private:
  static const antlr4::Token* PreviousVisible(antlr4::Parser* parser, const antlr4::Token* token) {
    if (parser == nullptr) return nullptr;
    auto* stream = dynamic_cast<antlr4::BufferedTokenStream*>(parser->getTokenStream());
    if (stream == nullptr) return nullptr;
    for (size_t i = token->getTokenIndex(); i-- > 0;) {
      antlr4::Token* t = stream->get(i);
      if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return t;
    }
    return nullptr;
  }

  // Keywords are the literal tokens spelled with letters.
  static bool IsKeyword(antlr4::Parser* parser, const antlr4::Token* token) {
    if (parser == nullptr || token->getType() == antlr4::Token::EOF) return false;
    std::string literal = parser->getVocabulary().getLiteralName(token->getType());
    return literal.size() > 2 && std::isalpha(static_cast<unsigned char>(literal[1])) != 0;
  }

  diag::FileId file_;
  Diagnostics& diagnostics_;
  size_t limit_;
  size_t count_ = 0;
  size_t last_line_ = 0;
  std::optional<size_t> last_reported_;
};

// Builds AST nodes from a parse tree that had no syntax errors.
class AstBuilder {
 public:
  AstBuilder(diag::FileId file, const ParseOptions& options, Diagnostics& diagnostics)
      : file_(file), options_(options), diagnostics_(diagnostics) {}

  ast::SourceUnit Build(DuetParser::FileContext* file) {
    ast::SourceUnit unit;
    unit.file = file_;
    for (DuetParser::ItemContext* item : file->item()) AddItem(item, unit);
    return unit;
  }

  bool failed() const { return failed_; }

 private:
  SourceRange Range(antlr4::ParserRuleContext* ctx) const {
    const antlr4::Token* stop = ctx->getStop() != nullptr ? ctx->getStop() : ctx->getStart();
    return SourceRange{file_, Begin(ctx->getStart()), End(stop)};
  }
  SourceRange Range(const antlr4::Token* token) const {
    return SourceRange{file_, Begin(token), End(token)};
  }
  SourceRange Range(antlr4::tree::TerminalNode* node) const { return Range(node->getSymbol()); }

  ast::Name MakeName(DuetParser::NameContext* ctx) const {
    std::string text = ctx->getText();
    if (ctx->QUOTED_IDENT() != nullptr) text = text.substr(1, text.size() - 2);
    return ast::Name{std::move(text), Range(ctx)};
  }

  ast::QualifiedName MakeQualifiedName(DuetParser::QualifiedNameContext* ctx) const {
    return ast::QualifiedName{MakeName(ctx->system), MakeName(ctx->table), Range(ctx)};
  }

  // Resolves escapes in a STRING token; reports bad ones.
  std::string Unquote(antlr4::Token* token) {
    std::string raw = token->getText();
    std::string_view body(raw.data() + 1, raw.size() - 2);
    std::string out;
    SourceLocation at = Begin(token);
    uint32_t column = at.column + 1;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && i > 0) ++column;
      if (c != '\\') {
        out += c;
        continue;
      }
      char next = i + 1 < body.size() ? body[i + 1] : '\0';
      switch (next) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
          out += '\\';
          break;
        case '"':
          out += '"';
          break;
        default: {
          size_t width = CodePointCount(std::string_view(body).substr(i + 1, 1)) + 1;
          diagnostics_
              .Report(
                  DiagKind::kBadEscape,
                  SourceRange{
                      file_, {at.line, column}, {at.line, column + static_cast<uint32_t>(width)}},
                  fmt::format("unknown escape sequence '\\{}'", std::string(1, next)))
              .AddNote("the escapes are \\n, \\t, \\r, \\\\ and \\\"");
          failed_ = true;
        }
      }
      ++i;
      ++column;
    }
    return out;
  }

  // Checks that an integer or decimal literal is representable: int64 for
  // integers, 38 significant digits for decimals (the decimal type's limit).
  void CheckNumber(const ast::Literal& literal) {
    if (literal.kind == ast::LiteralKind::kInt) {
      int64_t value = 0;
      const char* begin = literal.text.data();
      const char* end = begin + literal.text.size();
      auto [ptr, ec] = std::from_chars(begin, end, value);
      if (ec != std::errc() || ptr != end) {
        diagnostics_
            .Report(DiagKind::kBadNumber, literal.range,
                    fmt::format("integer {} does not fit in 64 bits", literal.text))
            .AddNote("integers range from -9223372036854775808 to 9223372036854775807");
        failed_ = true;
      }
    } else if (literal.kind == ast::LiteralKind::kDecimal) {
      std::string digits;
      for (char c : literal.text) {
        if (c >= '0' && c <= '9') digits += c;
      }
      size_t first = digits.find_first_not_of('0');
      size_t significant = first == std::string::npos ? 0 : digits.size() - first;
      if (significant > 38) {
        diagnostics_.Report(DiagKind::kBadNumber, literal.range,
                            fmt::format("decimal {} has {} digits; at most 38 are allowed",
                                        literal.text, significant));
        failed_ = true;
      }
    }
  }

  ast::Literal MakeLiteral(DuetParser::LiteralContext* ctx) {
    ast::Literal literal;
    literal.range = Range(ctx);
    if (auto* c = dynamic_cast<DuetParser::StringLiteralContext*>(ctx)) {
      literal.kind = ast::LiteralKind::kString;
      literal.text = Unquote(c->STRING()->getSymbol());
    } else if (auto* c = dynamic_cast<DuetParser::IntLiteralContext*>(ctx)) {
      literal.kind = ast::LiteralKind::kInt;
      literal.text = c->INT()->getText();
    } else if (auto* c = dynamic_cast<DuetParser::DecimalLiteralContext*>(ctx)) {
      literal.kind = ast::LiteralKind::kDecimal;
      literal.text = c->DECIMAL()->getText();
    } else if (dynamic_cast<DuetParser::TrueLiteralContext*>(ctx) != nullptr) {
      literal.kind = ast::LiteralKind::kBool;
      literal.bool_value = true;
    } else if (dynamic_cast<DuetParser::FalseLiteralContext*>(ctx) != nullptr) {
      literal.kind = ast::LiteralKind::kBool;
    } else {
      literal.kind = ast::LiteralKind::kNull;
    }
    CheckNumber(literal);
    return literal;
  }

  ast::Literal MakeConstant(DuetParser::ConstantContext* ctx) {
    if (auto* c = dynamic_cast<DuetParser::PlainConstantContext*>(ctx)) {
      return MakeLiteral(c->literal());
    }
    auto* c = dynamic_cast<DuetParser::NegativeConstantContext*>(ctx);
    ast::Literal literal;
    literal.range = Range(ctx);
    literal.kind = c->INT() != nullptr ? ast::LiteralKind::kInt : ast::LiteralKind::kDecimal;
    literal.text = "-" + (c->INT() != nullptr ? c->INT()->getText() : c->DECIMAL()->getText());
    CheckNumber(literal);
    return literal;
  }

  std::optional<std::string> OptionalString(antlr4::tree::TerminalNode* node) {
    if (node == nullptr) return std::nullopt;
    return Unquote(node->getSymbol());
  }

  void AddItem(DuetParser::ItemContext* item, ast::SourceUnit& unit) {
    if (auto* c = dynamic_cast<DuetParser::ImportItemContext*>(item)) {
      unit.imports.push_back(
          ast::ImportDecl{Unquote(c->STRING()->getSymbol()), Range(c->STRING())});
    } else if (auto* c = dynamic_cast<DuetParser::SystemItemContext*>(item)) {
      unit.systems.push_back(
          ast::SystemDecl{MakeName(c->name()), OptionalString(c->STRING()), Range(item)});
    } else if (auto* c = dynamic_cast<DuetParser::TableItemContext*>(item)) {
      ast::TableDecl table;
      table.name = MakeQualifiedName(c->qualifiedName());
      table.label = OptionalString(c->STRING());
      table.range = Range(item);
      for (auto* member : c->tableMember()) AddTableMember(member, table);
      unit.tables.push_back(std::move(table));
    } else if (auto* c = dynamic_cast<DuetParser::ExtendTableItemContext*>(item)) {
      ast::TableDecl table;
      table.name = MakeQualifiedName(c->qualifiedName());
      table.is_extension = true;
      table.range = Range(item);
      for (auto* member : c->tableMember()) AddTableMember(member, table);
      unit.tables.push_back(std::move(table));
    } else if (auto* c = dynamic_cast<DuetParser::ValueMapItemContext*>(item)) {
      unit.value_maps.push_back(
          ast::ValueMapDecl{MakeName(c->name()), MakeValueMapBody(c->valueMapBody()), Range(item)});
    } else if (auto* c = dynamic_cast<DuetParser::MapItemContext*>(item)) {
      ast::MapDecl map;
      map.name = MakeName(c->name());
      map.label = OptionalString(c->STRING());
      map.left = MakeQualifiedName(c->qualifiedName(0));
      map.direction = MakeDirection(c->direction());
      map.direction_range = Range(c->direction());
      map.right = MakeQualifiedName(c->qualifiedName(1));
      map.range = Range(item);
      for (auto* member : c->mapMember()) AddMapMember(member, map);
      unit.maps.push_back(std::move(map));
    } else if (auto* c = dynamic_cast<DuetParser::ExtendMapItemContext*>(item)) {
      ast::MapDecl map;
      map.name = MakeName(c->name());
      map.is_extension = true;
      map.range = Range(item);
      for (auto* field : c->fieldMapping()) map.fields.push_back(MakeFieldMapping(field));
      unit.maps.push_back(std::move(map));
    } else if (auto* c = dynamic_cast<DuetParser::TestItemContext*>(item)) {
      ast::TestDecl test;
      test.map = MakeName(c->name());
      test.label = OptionalString(c->STRING());
      test.range = Range(item);
      for (auto* step : c->testStep()) test.steps.push_back(MakeTestStep(step));
      unit.tests.push_back(std::move(test));
    }
  }

  void AddTableMember(DuetParser::TableMemberContext* member, ast::TableDecl& table) {
    if (auto* c = dynamic_cast<DuetParser::ColumnMemberContext*>(member)) {
      ast::ColumnDecl column;
      column.name = MakeName(c->name());
      column.type = MakeType(c->typeSpec());
      column.range = Range(member);
      auto conflict = [&](antlr4::ParserRuleContext* option, std::string_view what) {
        diagnostics_.Report(DiagKind::kDuplicateOption, Range(option),
                            fmt::format("column '{}' {}", column.name.text, what));
        failed_ = true;
      };
      for (auto* option : c->columnOption()) {
        if (dynamic_cast<DuetParser::NotNullOptionContext*>(option) != nullptr) {
          if (column.not_null) conflict(option, "says 'not null' twice");
          if (column.explicit_null) conflict(option, "is declared both 'null' and 'not null'");
          column.not_null = true;
        } else if (dynamic_cast<DuetParser::NullOptionContext*>(option) != nullptr) {
          if (column.explicit_null) conflict(option, "says 'null' twice");
          if (column.not_null) conflict(option, "is declared both 'not null' and 'null'");
          column.explicit_null = true;
        } else if (auto* d = dynamic_cast<DuetParser::DefaultOptionContext*>(option)) {
          if (column.default_value) conflict(option, "has two defaults");
          column.default_value = MakeConstant(d->constant());
        } else if (dynamic_cast<DuetParser::LocalOptionContext*>(option) != nullptr) {
          if (column.local) conflict(option, "says 'local' twice");
          column.local = true;
        }
      }
      table.columns.push_back(std::move(column));
    } else if (auto* c = dynamic_cast<DuetParser::IdMemberContext*>(member)) {
      table.ids.push_back(ast::IdDecl{MakeName(c->name()), Range(member)});
    } else if (auto* c = dynamic_cast<DuetParser::KeyMemberContext*>(member)) {
      ast::KeyDecl key;
      key.range = Range(member);
      for (auto* name : c->name()) key.columns.push_back(MakeName(name));
      table.keys.push_back(std::move(key));
    }
  }

  ast::TypeSyntax MakeType(DuetParser::TypeSpecContext* ctx) {
    ast::TypeSyntax type;
    type.range = Range(ctx);
    if (auto* c = dynamic_cast<DuetParser::RefTypeContext*>(ctx)) {
      type.ref = MakeQualifiedName(c->qualifiedName());
      return type;
    }
    auto* c = dynamic_cast<DuetParser::NamedTypeContext*>(ctx);
    type.name = MakeName(c->name());
    for (auto* arg : c->INT()) {
      ast::Literal literal{ast::LiteralKind::kInt, false, arg->getText(), Range(arg)};
      CheckNumber(literal);
      type.args.push_back(std::move(literal));
    }
    return type;
  }

  static ast::Direction MakeDirection(DuetParser::DirectionContext* ctx) {
    if (ctx->TO_RIGHT() != nullptr) return ast::Direction::kToRight;
    if (ctx->TO_LEFT() != nullptr) return ast::Direction::kToLeft;
    return ast::Direction::kBoth;
  }

  ast::ValueMapBody MakeValueMapBody(DuetParser::ValueMapBodyContext* ctx) {
    ast::ValueMapBody body;
    body.range = Range(ctx);
    for (auto* entry : ctx->valueEntry()) {
      body.entries.push_back(
          ast::ValueEntry{MakeValueKey(entry->left), MakeValueKey(entry->right), Range(entry)});
    }
    return body;
  }

  ast::ValueKey MakeValueKey(DuetParser::ValueKeyContext* ctx) {
    ast::ValueKey key;
    key.range = Range(ctx);
    if (auto* c = dynamic_cast<DuetParser::ConstantKeyContext*>(ctx)) {
      key.value = MakeConstant(c->constant());
    } else {
      key.wildcard = true;
    }
    return key;
  }

  void AddMapMember(DuetParser::MapMemberContext* member, ast::MapDecl& map) {
    SourceRange range = Range(member);
    if (auto* c = dynamic_cast<DuetParser::VersionMemberContext*>(member)) {
      map.versions.push_back(ast::VersionSetting{c->VERSION()->getText(), range});
    } else if (auto* c = dynamic_cast<DuetParser::MasterMemberContext*>(member)) {
      map.masters.push_back(ast::MasterSetting{MakeName(c->name()), range});
    } else if (auto* c = dynamic_cast<DuetParser::InitialFromMemberContext*>(member)) {
      map.initials.push_back(ast::InitialSetting{MakeName(c->name()), range});
    } else if (dynamic_cast<DuetParser::InitialNoneMemberContext*>(member) != nullptr) {
      map.initials.push_back(ast::InitialSetting{std::nullopt, range});
    } else if (auto* c = dynamic_cast<DuetParser::FilterMemberContext*>(member)) {
      map.filters.push_back(ast::FilterDecl{MakeName(c->name()), MakeExpr(c->expr(), 0), range});
    } else if (auto* c = dynamic_cast<DuetParser::FieldMemberContext*>(member)) {
      map.fields.push_back(MakeFieldMapping(c->fieldMapping()));
    }
  }

  ast::FieldMapping MakeFieldMapping(DuetParser::FieldMappingContext* ctx) {
    ast::FieldMapping field;
    field.left = MakeExpr(ctx->lhs, 0);
    field.direction = MakeDirection(ctx->direction());
    field.direction_range = Range(ctx->direction());
    field.right = MakeExpr(ctx->rhs, 0);
    field.range = Range(ctx);
    auto duplicate = [&](antlr4::ParserRuleContext* option, std::string_view what) {
      diagnostics_.Report(DiagKind::kDuplicateOption, Range(option),
                          fmt::format("'{}' is given twice on this mapping", what));
      failed_ = true;
    };
    for (auto* option : ctx->fieldOption()) {
      if (auto* c = dynamic_cast<DuetParser::InlineValuesOptionContext*>(option)) {
        if (field.inline_values || field.named_values) duplicate(option, "values");
        field.inline_values = MakeValueMapBody(c->valueMapBody());
      } else if (auto* c = dynamic_cast<DuetParser::NamedValuesOptionContext*>(option)) {
        if (field.inline_values || field.named_values) duplicate(option, "values");
        field.named_values = MakeName(c->name());
      } else if (auto* c = dynamic_cast<DuetParser::FieldMasterOptionContext*>(option)) {
        if (field.master) duplicate(option, "master");
        field.master = MakeName(c->name());
      } else if (dynamic_cast<DuetParser::TruncateOptionContext*>(option) != nullptr) {
        if (field.truncate) duplicate(option, "truncate");
        field.truncate = true;
      } else if (dynamic_cast<DuetParser::DeferredOptionContext*>(option) != nullptr) {
        if (field.deferred) duplicate(option, "deferred");
        field.deferred = true;
      } else if (dynamic_cast<DuetParser::RoundedOptionContext*>(option) != nullptr) {
        if (field.rounded) duplicate(option, "rounded");
        field.rounded = true;
      }
    }
    return field;
  }

  ast::TestStep MakeTestStep(DuetParser::TestStepContext* ctx) {
    ast::TestStep step;
    step.range = Range(ctx);
    if (auto* c = dynamic_cast<DuetParser::GivenStepContext*>(ctx)) {
      step.kind = ast::TestStepKind::kGiven;
      step.side = MakeName(c->name());
      step.row = MakeRow(c->rowLiteral());
    } else if (auto* c = dynamic_cast<DuetParser::ExpectRowStepContext*>(ctx)) {
      step.kind = ast::TestStepKind::kExpectRow;
      step.side = MakeName(c->name());
      step.row = MakeRow(c->rowLiteral());
    } else if (dynamic_cast<DuetParser::ExpectFilteredStepContext*>(ctx) != nullptr) {
      step.kind = ast::TestStepKind::kExpectFiltered;
    } else if (auto* c = dynamic_cast<DuetParser::ExpectErrorStepContext*>(ctx)) {
      step.kind = ast::TestStepKind::kExpectError;
      step.error_text = OptionalString(c->STRING());
    }
    return step;
  }

  ast::RowLiteral MakeRow(DuetParser::RowLiteralContext* ctx) {
    ast::RowLiteral row;
    row.range = Range(ctx);
    for (auto* field : ctx->rowField()) {
      ast::RowField out;
      for (auto* name : field->path()->name()) out.path.push_back(MakeName(name));
      out.value = MakeConstant(field->constant());
      out.range = Range(field);
      row.fields.push_back(std::move(out));
    }
    return row;
  }

  ast::ExprPtr NewExpr(antlr4::ParserRuleContext* ctx, auto node) {
    auto expr = std::make_unique<ast::Expr>();
    expr->range = Range(ctx);
    expr->node = std::move(node);
    return expr;
  }

  static ast::BinaryOp BinaryOpOf(const antlr4::Token* op) {
    std::string text = op->getText();
    if (text == "+") return ast::BinaryOp::kAdd;
    if (text == "-") return ast::BinaryOp::kSubtract;
    if (text == "*") return ast::BinaryOp::kMultiply;
    if (text == "/") return ast::BinaryOp::kDivide;
    if (text == "%") return ast::BinaryOp::kModulo;
    if (text == "==") return ast::BinaryOp::kEqual;
    if (text == "!=") return ast::BinaryOp::kNotEqual;
    if (text == "<") return ast::BinaryOp::kLess;
    if (text == "<=") return ast::BinaryOp::kLessEqual;
    if (text == ">") return ast::BinaryOp::kGreater;
    return ast::BinaryOp::kGreaterEqual;
  }

  ast::ExprPtr Binary(antlr4::ParserRuleContext* ctx, ast::BinaryOp op,
                      const antlr4::Token* op_token, DuetParser::ExprContext* lhs,
                      DuetParser::ExprContext* rhs, size_t depth) {
    return NewExpr(ctx, ast::BinaryExpr{op, Range(op_token), MakeExpr(lhs, depth + 1),
                                        MakeExpr(rhs, depth + 1)});
  }

  // Operator chains such as a + b + c + ... build left-deep trees without
  // nesting in the parser, so depth is limited here as well.
  ast::ExprPtr MakeExpr(DuetParser::ExprContext* ctx, size_t depth) {
    if (depth > options_.max_nesting * 4) {
      if (!reported_depth_) {
        ReportNesting(diagnostics_, Range(ctx), options_.max_nesting * 4);
        reported_depth_ = true;
      }
      failed_ = true;
      return NewExpr(ctx, ast::LiteralExpr{});
    }
    if (auto* c = dynamic_cast<DuetParser::PrimaryExprContext*>(ctx)) {
      return MakePrimary(c->primary(), depth);
    }
    if (auto* c = dynamic_cast<DuetParser::NegateExprContext*>(ctx)) {
      return NewExpr(ctx, ast::UnaryExpr{ast::UnaryOp::kNegate, MakeExpr(c->expr(), depth + 1)});
    }
    if (auto* c = dynamic_cast<DuetParser::NotExprContext*>(ctx)) {
      return NewExpr(ctx, ast::UnaryExpr{ast::UnaryOp::kNot, MakeExpr(c->expr(), depth + 1)});
    }
    if (auto* c = dynamic_cast<DuetParser::MultiplyExprContext*>(ctx)) {
      return Binary(ctx, BinaryOpOf(c->op), c->op, c->expr(0), c->expr(1), depth);
    }
    if (auto* c = dynamic_cast<DuetParser::AddExprContext*>(ctx)) {
      return Binary(ctx, BinaryOpOf(c->op), c->op, c->expr(0), c->expr(1), depth);
    }
    if (auto* c = dynamic_cast<DuetParser::CompareExprContext*>(ctx)) {
      return Binary(ctx, BinaryOpOf(c->op), c->op, c->expr(0), c->expr(1), depth);
    }
    if (auto* c = dynamic_cast<DuetParser::AndExprContext*>(ctx)) {
      auto* op = dynamic_cast<antlr4::tree::TerminalNode*>(c->children[1]);
      return Binary(ctx, ast::BinaryOp::kAnd, op->getSymbol(), c->expr(0), c->expr(1), depth);
    }
    if (auto* c = dynamic_cast<DuetParser::OrExprContext*>(ctx)) {
      auto* op = dynamic_cast<antlr4::tree::TerminalNode*>(c->children[1]);
      return Binary(ctx, ast::BinaryOp::kOr, op->getSymbol(), c->expr(0), c->expr(1), depth);
    }
    if (auto* c = dynamic_cast<DuetParser::IsNullExprContext*>(ctx)) {
      return NewExpr(ctx, ast::IsNullExpr{MakeExpr(c->expr(), depth + 1), c->negated != nullptr});
    }
    if (auto* c = dynamic_cast<DuetParser::InExprContext*>(ctx)) {
      ast::InExpr in;
      in.operand = MakeExpr(c->expr(0), depth + 1);
      in.negated = c->negated != nullptr;
      for (size_t i = 1; i < c->expr().size(); ++i) {
        in.candidates.push_back(MakeExpr(c->expr(i), depth + 1));
      }
      return NewExpr(ctx, std::move(in));
    }
    auto* c = dynamic_cast<DuetParser::IfExprContext*>(ctx);
    return NewExpr(ctx,
                   ast::IfExpr{MakeExpr(c->expr(0), depth + 1), MakeExpr(c->expr(1), depth + 1),
                               MakeExpr(c->expr(2), depth + 1)});
  }

  ast::ExprPtr MakePrimary(DuetParser::PrimaryContext* ctx, size_t depth) {
    if (auto* c = dynamic_cast<DuetParser::LiteralPrimaryContext*>(ctx)) {
      return NewExpr(ctx, ast::LiteralExpr{MakeLiteral(c->literal())});
    }
    if (auto* c = dynamic_cast<DuetParser::CallPrimaryContext*>(ctx)) {
      ast::CallExpr call;
      call.callee = MakeName(c->name());
      for (auto* arg : c->expr()) call.args.push_back(MakeExpr(arg, depth + 1));
      return NewExpr(ctx, std::move(call));
    }
    if (auto* c = dynamic_cast<DuetParser::PathPrimaryContext*>(ctx)) {
      ast::PathExpr path;
      for (auto* name : c->path()->name()) path.segments.push_back(MakeName(name));
      return NewExpr(ctx, std::move(path));
    }
    auto* c = dynamic_cast<DuetParser::ParenPrimaryContext*>(ctx);
    ast::ExprPtr inner = MakeExpr(c->expr(), depth + 1);
    inner->range = Range(ctx);  // the parentheses belong to the operand's range
    return inner;
  }

  diag::FileId file_;
  const ParseOptions& options_;
  Diagnostics& diagnostics_;
  bool failed_ = false;
  bool reported_depth_ = false;
};

// Reports tokens that only exist to carry lexical errors, and bracket nesting
// beyond the limit. Returns false if the file must not be parsed.
bool ScanTokens(antlr4::CommonTokenStream& tokens, diag::FileId file, const ParseOptions& options,
                Diagnostics& diagnostics) {
  bool ok = true;
  size_t depth = 0;
  size_t last_bad_line = 0;
  for (antlr4::Token* token : tokens.getTokens()) {
    SourceRange range{file, Begin(token), End(token)};
    switch (token->getType()) {
      case DuetLexer::BAD_CHAR: {
        ok = false;
        // One per line: a stray quote usually comes with its partner.
        if (token->getLine() == last_bad_line) break;
        last_bad_line = token->getLine();
        std::string text = token->getText();
        auto& d = diagnostics.Report(diag::DiagKind::kBadCharacter, range,
                                     fmt::format("unexpected character '{}'", text));
        if (text == "'") d.AddNote("strings are written in double quotes: \"text\"");
        if (text == "\u201C" || text == "\u201D" || text == "\u2018" || text == "\u2019") {
          d.AddNote("typographic quotes are not quotes here; use straight double quotes: \"text\"");
        }
        if (text == "#") d.AddNote("comments start with // or are written /* ... */");
        break;
      }
      case DuetLexer::UNTERMINATED_STRING:
        diagnostics
            .Report(diag::DiagKind::kUnterminatedString, range,
                    "string literal is missing its closing quote")
            .AddNote("a string ends on the line it starts on");
        ok = false;
        break;
      case DuetLexer::UNTERMINATED_COMMENT:
        diagnostics.Report(
            diag::DiagKind::kUnterminatedComment,
            SourceRange{file, Begin(token), {Begin(token).line, Begin(token).column + 2}},
            "block comment is never closed with '*/'");
        ok = false;
        break;
      default: {
        std::string text =
            token->getChannel() == antlr4::Token::DEFAULT_CHANNEL ? token->getText() : "";
        if (text == "(" || text == "{") {
          if (++depth > options.max_nesting && ok) {
            ReportNesting(diagnostics, range, options.max_nesting);
            return false;
          }
        } else if ((text == ")" || text == "}") && depth > 0) {
          --depth;
        }
      }
    }
  }
  return ok;
}

}  // namespace

ast::SourceUnit ParseFile(const diag::SourceManager& sources, diag::FileId file,
                          const ParseOptions& options, Diagnostics& diagnostics) {
  ast::SourceUnit empty;
  empty.file = file;
  try {
    std::string text = sources.file(file).contents();
    // A byte-order mark becomes a space, keeping columns on line 1 right.
    if (text.starts_with("\xEF\xBB\xBF")) text.replace(0, 3, " ");
    antlr4::ANTLRInputStream input(text);
    DuetLexer lexer(&input);
    lexer.removeErrorListeners();
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    if (!ScanTokens(tokens, file, options, diagnostics)) return empty;

    DuetParser parser(&tokens);
    parser.removeErrorListeners();
    NestingGuard guard(&parser, options.max_nesting * 2 + 32);
    parser.addParseListener(&guard);

    // Fast path: SLL prediction, bail on the first error. Most files are
    // well-formed; only a file with errors pays for the full LL parse.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    DuetParser::FileContext* tree = nullptr;
    try {
      tree = parser.file();
    } catch (const antlr4::ParseCancellationException&) {
      tree = nullptr;
    }
    if (tree == nullptr) {
      tokens.seek(0);
      parser.reset();
      SyntaxErrorCollector collector(file, diagnostics, options.max_syntax_errors);
      parser.addErrorListener(&collector);
      parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
          antlr4::atn::PredictionMode::LL);
      tree = parser.file();
      if (collector.count() > options.max_syntax_errors && collector.last_reported()) {
        diagnostics.At(*collector.last_reported())
            .AddNote(fmt::format("{} more syntax errors in this file are not shown",
                                 collector.count() - options.max_syntax_errors));
      }
      if (collector.count() > 0) return empty;
    }
    AstBuilder builder(file, options, diagnostics);
    ast::SourceUnit unit = builder.Build(tree);
    if (builder.failed()) return empty;
    return unit;
  } catch (const NestingTooDeep& e) {
    ReportNesting(diagnostics, SourceRange{file, e.begin, e.end}, options.max_nesting);
    return empty;
  } catch (const std::exception& e) {
    // The ANTLR runtime should not throw here; if it does, the file is
    // reported rather than the process crashing.
    diagnostics.Report(diag::DiagKind::kSyntaxError, SourceRange{file, {}, {}},
                       fmt::format("internal parser failure: {}", e.what()));
    return empty;
  }
}

}  // namespace duet::syntax
