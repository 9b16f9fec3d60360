// The duet map language. See docs/language.md for the reference.
//
// Design notes:
// - Labelled alternatives everywhere, so each visitor method has named parts.
// - Keywords are lowercase and reserved; any name can be written `quoted`.
// - Lexer rules for broken input (unterminated strings and comments, stray
//   characters) produce tokens instead of lexer errors, so the front end can
//   report them with their own diagnostic codes.
grammar Duet;

file : item* EOF ;

item
  : 'import' STRING ';'                                   # ImportItem
  | 'system' name STRING? ';'                             # SystemItem
  | 'table' qualifiedName STRING? '{' tableMember* '}'    # TableItem
  | 'extend' 'table' qualifiedName '{' tableMember* '}'   # ExtendTableItem
  | 'valuemap' name valueMapBody                          # ValueMapItem
  | 'map' name STRING? ':' qualifiedName direction qualifiedName
        '{' mapMember* '}'                                # MapItem
  | 'extend' 'map' name '{' fieldMapping* '}'             # ExtendMapItem
  | 'test' name STRING? '{' testStep* '}'                 # TestItem
  ;

// ---- tables ---------------------------------------------------------------

tableMember
  : name typeSpec columnOption* ';'                       # ColumnMember
  | 'id' name ';'                                         # IdMember
  | 'key' '(' name (',' name)* ')' ';'                    # KeyMember
  ;

typeSpec
  : name ('(' INT (',' INT)? ')')?                        # NamedType
  | 'ref' qualifiedName                                   # RefType
  ;

columnOption
  : 'not' 'null'                                          # NotNullOption
  | 'null'                                                # NullOption
  | 'default' constant                                    # DefaultOption
  | 'local'                                               # LocalOption
  ;

// ---- maps -----------------------------------------------------------------

mapMember
  : 'version' VERSION ';'                                 # VersionMember
  | 'master' name ';'                                     # MasterMember
  | 'initial' 'from' name ';'                             # InitialFromMember
  | 'initial' 'none' ';'                                  # InitialNoneMember
  | 'filter' name ':' expr ';'                            # FilterMember
  | fieldMapping                                          # FieldMember
  ;

fieldMapping
  : lhs=expr direction rhs=expr fieldOption* ';'
  ;

fieldOption
  : 'values' valueMapBody                                 # InlineValuesOption
  | 'values' name                                         # NamedValuesOption
  | 'master' name                                         # FieldMasterOption
  | 'truncate'                                            # TruncateOption
  | 'deferred'                                            # DeferredOption
  | 'rounded'                                             # RoundedOption
  ;

direction : BOTH | TO_RIGHT | TO_LEFT ;

valueMapBody
  : '{' (valueEntry (',' valueEntry)* ','?)? '}'
  ;

valueEntry : left=valueKey '=' right=valueKey ;

valueKey
  : constant                                              # ConstantKey
  | '*'                                                   # WildcardKey
  ;

// ---- map unit tests -------------------------------------------------------

testStep
  : 'given' name rowLiteral ';'?                          # GivenStep
  | 'expect' name rowLiteral ';'?                         # ExpectRowStep
  | 'expect' 'filtered' ';'                               # ExpectFilteredStep
  | 'expect' 'error' STRING? ';'                          # ExpectErrorStep
  ;

rowLiteral
  : '{' (rowField (',' rowField)* ','?)? '}'
  ;

rowField : path '=' constant ;

// ---- expressions ----------------------------------------------------------
// Precedence, tightest first: unary minus; * / %; + -; comparisons, `is null`,
// `in`; not; and; or; if/then/else.

expr
  : primary                                               # PrimaryExpr
  | '-' expr                                              # NegateExpr
  | expr op=('*' | '/' | '%') expr                        # MultiplyExpr
  | expr op=('+' | '-') expr                              # AddExpr
  | expr op=('==' | '!=' | '<' | '<=' | '>' | '>=') expr  # CompareExpr
  | expr 'is' negated='not'? 'null'                       # IsNullExpr
  | expr negated='not'? 'in' '(' expr (',' expr)* ')'     # InExpr
  | 'not' expr                                            # NotExpr
  | expr 'and' expr                                       # AndExpr
  | expr 'or' expr                                        # OrExpr
  | 'if' expr 'then' expr 'else' expr                     # IfExpr
  ;

primary
  : literal                                               # LiteralPrimary
  | name '(' (expr (',' expr)*)? ')'                      # CallPrimary
  | path                                                  # PathPrimary
  | '(' expr ')'                                          # ParenPrimary
  ;

literal
  : STRING                                                # StringLiteral
  | INT                                                   # IntLiteral
  | DECIMAL                                               # DecimalLiteral
  | 'true'                                                # TrueLiteral
  | 'false'                                               # FalseLiteral
  | 'null'                                                # NullLiteral
  ;

// A literal with an optional sign, where no expression is allowed (column
// defaults, value-map entries, test rows).
constant
  : literal                                               # PlainConstant
  | '-' (INT | DECIMAL)                                   # NegativeConstant
  ;

path : name ('.' name)* ;

qualifiedName : system=name '.' table=name ;

name : IDENT | QUOTED_IDENT ;

// ---- lexer ----------------------------------------------------------------

BOTH     : '<->' ;
TO_RIGHT : '->' ;
TO_LEFT  : '<-' ;

VERSION : DIGITS '.' DIGITS '.' DIGITS ('.' DIGITS)? ;
DECIMAL : DIGITS '.' DIGITS ;
INT     : DIGITS ;

IDENT        : [a-zA-Z_] [a-zA-Z0-9_]* ;
QUOTED_IDENT : '`' ~[`\r\n]+ '`' ;

STRING              : '"' (ESCAPE | ~["\\\r\n])* '"' ;
UNTERMINATED_STRING : '"' (ESCAPE | ~["\\\r\n])* ;

LINE_COMMENT          : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT         : '/*' .*? '*/' -> channel(HIDDEN) ;
// Cannot contain `*/`, so it only matches a comment that never ends.
UNTERMINATED_COMMENT  : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF ;

WS : [ \t\r\n\f]+ -> channel(HIDDEN) ;

// Anything else is one bad character, reported by the front end.
BAD_CHAR : . ;

fragment DIGITS : [0-9]+ ;
fragment ESCAPE : '\\' . ;
