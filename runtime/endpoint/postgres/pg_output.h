// A pure decoder of pgoutput, PostgreSQL's built-in logical decoding output
// plugin: one message of protocol version 1 (without streaming of
// in-progress transactions, two-phase commit or logical messages, none of
// which capture asks for) as the walsender sends it in XLogData. The bytes
// come from outside: every length and count is checked against what is
// left, and anything malformed is InvalidArgument, never a crash
// (tests/fuzz/pg_output_fuzzer.cc).
//
// The formats: PostgreSQL 15 documentation, "Logical Replication Message
// Formats". Timestamps are microseconds since 2000-01-01 UTC.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_PG_OUTPUT_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_PG_OUTPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/base/status.h"

namespace duet::pg::pgoutput {

struct Begin {
  uint64_t final_lsn = 0;  // the LSN of the transaction's commit record
  int64_t commit_time = 0;
  uint32_t xid = 0;
};
struct Commit {
  uint8_t flags = 0;
  uint64_t commit_lsn = 0;  // the same as Begin's final_lsn
  uint64_t end_lsn = 0;     // the end of the commit record
  int64_t commit_time = 0;
};
// Sent after Begin when the transaction was committed by a session set up
// with a replication origin.
struct Origin {
  uint64_t lsn = 0;
  std::string name;
};
struct Column {
  uint8_t flags = 0;  // 1: part of the replica identity
  std::string name;
  uint32_t type = 0;
  int32_t modifier = 0;
};
// Describes a relation before its first change in the stream (and again
// after it changes): the changes name it by `oid` only.
struct Relation {
  uint32_t oid = 0;
  std::string schema;  // "" for pg_catalog
  std::string name;
  uint8_t replica_identity = 0;  // 'd', 'n', 'f' or 'i'
  std::vector<Column> columns;
};
struct Type {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
};
// One column's value in a tuple.
struct Datum {
  enum class Kind : uint8_t { kNull = 'n', kUnchanged = 'u', kText = 't', kBinary = 'b' };
  Kind kind = Kind::kNull;
  std::string data;  // kText: the type's output text; kBinary: its send form
};
using Tuple = std::vector<Datum>;
struct Insert {
  uint32_t relation = 0;
  Tuple row;
};
struct Update {
  uint32_t relation = 0;
  // 0 when no old row was sent; 'K': the old replica identity key (the key
  // changed); 'O': the whole old row (REPLICA IDENTITY FULL).
  uint8_t old_kind = 0;
  Tuple old_row;
  Tuple row;
};
struct Delete {
  uint32_t relation = 0;
  uint8_t old_kind = 0;  // 'K' or 'O', as for Update
  Tuple old_row;
};
struct Truncate {
  uint8_t options = 0;  // 1: CASCADE, 2: RESTART IDENTITY
  std::vector<uint32_t> relations;
};

using Message =
    std::variant<Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate>;

// Decodes one message; every byte must belong to it.
Expected<Message> Parse(std::string_view bytes);

}  // namespace duet::pg::pgoutput

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_PG_OUTPUT_H_
