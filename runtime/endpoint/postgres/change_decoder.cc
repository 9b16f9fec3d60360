#include "runtime/endpoint/postgres/change_decoder.h"

#include <type_traits>
#include <utility>
#include <variant>

#include "runtime/endpoint/postgres/pg_row_key.h"
#include "runtime/pg/replication_stream.h"

namespace duet::pg {
namespace {

using endpoint::ChangeOp;

// The most row messages one transaction may have: 2k+1 must fit an index.
constexpr uint64_t kMaxRowMessages = uint64_t{1} << 31;

Status OutOfPlace(const char* what) {
  return InvalidArgumentError(std::string("pgoutput: ") + what + " outside a transaction");
}

}  // namespace

Status ChangeDecoder::Feed(std::string_view bytes) {
  Expected<pgoutput::Message> message = pgoutput::Parse(bytes);
  if (!message.ok()) return message.status();
  return std::visit(
      [&](auto& m) -> Status {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, pgoutput::Begin>) {
          if (open_) return InvalidArgumentError("pgoutput: a transaction began inside another");
          open_.emplace();
          open_->commit_lsn = m.final_lsn;
          open_->xid = m.xid;
          // A transaction of a session set up with a replication origin
          // carries the origin's timestamp instead, 0 unless set per
          // transaction: unknown here.
          open_->at = m.commit_time == 0 ? 0 : UnixSecondsOfPgMicros(m.commit_time);
          row_messages_ = 0;
        } else if constexpr (std::is_same_v<M, pgoutput::Origin>) {
          if (!open_) return OutOfPlace("an origin");
          open_->origin_name = m.name;
        } else if constexpr (std::is_same_v<M, pgoutput::Commit>) {
          if (!open_) return OutOfPlace("a commit");
          if (m.commit_lsn != open_->commit_lsn) {
            return InvalidArgumentError("pgoutput: a commit at " + LsnText(m.commit_lsn) +
                                        " ends the transaction begun for " +
                                        LsnText(open_->commit_lsn));
          }
          open_->end_lsn = m.end_lsn;
          committed_.push_back(std::move(*open_));
          open_.reset();
        } else if constexpr (std::is_same_v<M, pgoutput::Relation>) {
          return OnRelation(m);
        } else if constexpr (std::is_same_v<M, pgoutput::Insert>) {
          return OnRow(m.relation, ChangeOp::kInsert, nullptr, &m.row);
        } else if constexpr (std::is_same_v<M, pgoutput::Update>) {
          return OnRow(m.relation, ChangeOp::kUpdate, m.old_kind ? &m.old_row : nullptr, &m.row);
        } else if constexpr (std::is_same_v<M, pgoutput::Delete>) {
          return OnRow(m.relation, ChangeOp::kDelete, &m.old_row, nullptr);
        } else if constexpr (std::is_same_v<M, pgoutput::Truncate>) {
          if (!open_) return OutOfPlace("a truncate");
        }
        // Type: nothing to do (values are read as text).
        return Status::Ok();
      },
      *message);
}

std::vector<DecodedTransaction> ChangeDecoder::TakeCommitted() {
  return std::exchange(committed_, {});
}

Status ChangeDecoder::OnRelation(const pgoutput::Relation& r) {
  RelationInfo info;
  for (size_t t = 0; t < tables_.size(); ++t) {
    if (tables_[t].schema == r.schema && tables_[t].table == r.name)
      info.table = static_cast<int>(t);
  }
  if (info.table >= 0) {
    for (const std::string& key : tables_[static_cast<size_t>(info.table)].key_columns) {
      int place = -1;
      for (size_t c = 0; c < r.columns.size(); ++c) {
        if (r.columns[c].name == key) place = static_cast<int>(c);
      }
      if (place < 0 && info.missing.empty()) info.missing = key;
      info.key.push_back(place);
    }
  }
  relations_[r.oid] = std::move(info);
  return Status::Ok();
}

Expected<endpoint::RowId> ChangeDecoder::KeyOf(const RelationInfo& info, const pgoutput::Tuple& row,
                                               const pgoutput::Tuple* fallback) {
  const CapturedTable& table = tables_[static_cast<size_t>(info.table)];
  std::vector<std::string> texts;
  for (size_t k = 0; k < info.key.size(); ++k) {
    size_t place = static_cast<size_t>(info.key[k]);
    const pgoutput::Datum* d = place < row.size() ? &row[place] : nullptr;
    if (d && d->kind == pgoutput::Datum::Kind::kUnchanged && fallback && place < fallback->size()) {
      d = &(*fallback)[place];
    }
    if (!d || d->kind != pgoutput::Datum::Kind::kText) {
      return FailedPreconditionError("table " + table.name +
                                     ": the stream did not send key column '" +
                                     table.key_columns[k] + "' as text");
    }
    texts.push_back(d->data);
  }
  return EncodeRowId(texts);
}

Status ChangeDecoder::OnRow(uint32_t relation, ChangeOp op, const pgoutput::Tuple* old_row,
                            const pgoutput::Tuple* row) {
  if (!open_) return OutOfPlace("a row change");
  uint64_t k = row_messages_++;
  if (k >= kMaxRowMessages) {
    return FailedPreconditionError("pgoutput: a transaction of more than 2^31 row changes");
  }
  auto it = relations_.find(relation);
  if (it == relations_.end()) {
    return InvalidArgumentError("pgoutput: a change of relation " + std::to_string(relation) +
                                " before its description");
  }
  const RelationInfo& info = it->second;
  if (info.table < 0) return Status::Ok();
  if (!info.missing.empty()) {
    return FailedPreconditionError("table " + tables_[static_cast<size_t>(info.table)].name +
                                   ": the stream has no key column '" + info.missing + "'");
  }
  auto index = static_cast<uint32_t>(2 * k);
  // A delete names its row by the old key; an insert or update by the new
  // row's (an unchanged TOASTed key value is taken from the old row).
  Expected<endpoint::RowId> id =
      op == ChangeOp::kDelete ? KeyOf(info, *old_row, nullptr) : KeyOf(info, *row, old_row);
  if (!id.ok()) return id.status();
  if (op != ChangeOp::kUpdate || old_row == nullptr) {
    return Emit(info.table, std::move(*id), op, index);
  }
  Expected<endpoint::RowId> old_id = KeyOf(info, *old_row, nullptr);
  if (!old_id.ok()) return old_id.status();
  if (*old_id == *id) return Emit(info.table, std::move(*id), ChangeOp::kUpdate, index);
  if (Status s = Emit(info.table, std::move(*old_id), ChangeOp::kDelete, index); !s.ok()) return s;
  return Emit(info.table, std::move(*id), ChangeOp::kInsert, index + 1);
}

Status ChangeDecoder::Emit(int table, endpoint::RowId id, ChangeOp op, uint32_t index) {
  open_->changes.push_back(DecodedChange{table, std::move(id), op, index});
  return Status::Ok();
}

}  // namespace duet::pg
