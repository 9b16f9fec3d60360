// The WriteTransaction of an endpoint that runs one transaction at a time on
// one connection, whose steps are the endpoint's own methods: open from
// Begin until Commit succeeds or Rollback, which destroying it calls; every
// step of an ended transaction is FailedPrecondition.
#ifndef DUET_RUNTIME_ENDPOINT_ENDPOINT_TRANSACTION_H_
#define DUET_RUNTIME_ENDPOINT_ENDPOINT_TRANSACTION_H_

#include <string>
#include <vector>

#include "runtime/endpoint/endpoint.h"

namespace duet::endpoint {

// Impl has Insert, Update, Delete and ReadForUpdate with WriteTransaction's
// signatures, InsertMany too when it has a bulk path of its own, Status
// CommitWrite(), void RollbackWrite(), and void EndTransaction(), called
// once the transaction has ended either way.
template <typename Impl>
class EndpointTransaction : public WriteTransaction {
 public:
  explicit EndpointTransaction(Impl* endpoint) : endpoint_(endpoint) {}
  ~EndpointTransaction() override { Rollback(); }

  Expected<RowId> Insert(const std::string& table, const std::vector<std::string>& columns,
                         const std::vector<Value>& values) override {
    if (!open_) return Closed();
    return endpoint_->Insert(table, columns, values);
  }
  Expected<std::vector<Expected<RowId>>> InsertMany(
      const std::string& table, const std::vector<std::string>& columns,
      const std::vector<std::vector<Value>>& rows) override {
    if (!open_) return Closed();
    if constexpr (requires { endpoint_->InsertMany(table, columns, rows); }) {
      return endpoint_->InsertMany(table, columns, rows);
    } else {
      return WriteTransaction::InsertMany(table, columns, rows);
    }
  }
  Status Update(const std::string& table, const RowId& id, const std::vector<std::string>& columns,
                const std::vector<Value>& values) override {
    if (!open_) return Closed();
    return endpoint_->Update(table, id, columns, values);
  }
  Status Delete(const std::string& table, const RowId& id) override {
    if (!open_) return Closed();
    return endpoint_->Delete(table, id);
  }
  Expected<std::vector<Row>> ReadForUpdate(const std::string& table,
                                           const std::vector<ColumnPath>& paths,
                                           const std::vector<RowId>& ids) override {
    if (!open_) return Closed();
    return endpoint_->ReadForUpdate(table, paths, ids);
  }
  Status Commit() override {
    if (!open_) return Closed();
    Status s = endpoint_->CommitWrite();
    if (s.ok()) Ended();
    return s;
  }
  void Rollback() override {
    if (!open_) return;
    endpoint_->RollbackWrite();
    Ended();
  }

 private:
  static Status Closed() { return FailedPreconditionError("the write transaction has ended"); }
  void Ended() {
    open_ = false;
    endpoint_->EndTransaction();
  }

  Impl* endpoint_;
  bool open_ = true;
};

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_ENDPOINT_TRANSACTION_H_
