// From pgoutput messages (pg_output.h) to duet's changes: committed
// transactions, each with its commit LSN, time and origin name, and one
// change per row written in a captured table, its RowId made from the key
// columns' texts (pg_row_key.h, as the endpoint's readers make it). Pure:
// the bytes go in, transactions come out; no I/O.
//
// - A relation is matched to a CapturedTable by its schema and name (the
//   Relation message the stream sends before a relation's first change);
//   changes of other relations are left out.
// - An update that changes the key (an old key tuple 'K', or an old row 'O'
//   whose key texts differ) is the old RowId's delete and the new one's
//   insert.
// - Each change has an index in its transaction: 2k for the k-th row
//   message of the transaction (counting every relation's, so that the
//   index does not depend on which tables are captured), 2k+1 for the
//   insert half of a key-changing update. Indexes increase in stream order.
// - TRUNCATE names no rows: it yields no change (docs/postgresql.md).
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_CHANGE_DECODER_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_CHANGE_DECODER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/endpoint/postgres/pg_capture.h"
#include "runtime/endpoint/postgres/pg_output.h"

namespace duet::pg {

struct DecodedChange {
  int table = 0;  // index into the decoder's tables
  endpoint::RowId row_id;
  endpoint::ChangeOp op = endpoint::ChangeOp::kUpdate;
  uint32_t index = 0;
};

struct DecodedTransaction {
  uint64_t commit_lsn = 0;
  uint64_t end_lsn = 0;
  uint32_t xid = 0;  // the transaction's id (its low 32 bits)
  // Commit time, seconds since the Unix epoch; 0 when the stream has none
  // (a transaction marked with a replication origin carries the origin's
  // timestamp, which MarkSession does not set).
  double at = 0;
  std::string origin_name;  // the replication origin's name; "" for none
  std::vector<DecodedChange> changes;
};

class ChangeDecoder {
 public:
  explicit ChangeDecoder(std::vector<CapturedTable> tables) : tables_(std::move(tables)) {}

  // Decodes one pgoutput message. InvalidArgument for bytes that are not
  // one, or a message out of place (a change outside a transaction);
  // FailedPrecondition for a captured table whose key cannot be read from
  // the stream (a key column missing, or not sent as text).
  Status Feed(std::string_view message);
  // The transactions whose Commit has been fed since the last call, in
  // commit order.
  std::vector<DecodedTransaction> TakeCommitted();
  // Whether a transaction has begun and not yet committed.
  bool in_transaction() const { return open_.has_value(); }
  // Forgets a transaction cut off by a lost connection (the stream sends
  // it again from its Begin).
  void Reset() { open_.reset(); }

  const std::vector<CapturedTable>& tables() const { return tables_; }

 private:
  struct RelationInfo {
    int table = -1;        // -1: not captured
    std::vector<int> key;  // the key columns' places in the tuples
    std::string missing;   // a key column the relation lacks
  };

  Status OnRelation(const pgoutput::Relation& r);
  Status OnRow(uint32_t relation, endpoint::ChangeOp op, const pgoutput::Tuple* old_row,
               const pgoutput::Tuple* row);
  Expected<endpoint::RowId> KeyOf(const RelationInfo& info, const pgoutput::Tuple& row,
                                  const pgoutput::Tuple* fallback);
  Status Emit(int table, endpoint::RowId id, endpoint::ChangeOp op, uint32_t index);

  std::vector<CapturedTable> tables_;
  std::map<uint32_t, RelationInfo> relations_;
  std::optional<DecodedTransaction> open_;
  uint64_t row_messages_ = 0;  // in the open transaction
  std::vector<DecodedTransaction> committed_;
};

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_CHANGE_DECODER_H_
