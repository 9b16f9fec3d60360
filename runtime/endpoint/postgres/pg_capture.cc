// A placeholder until logical decoding lands (issue 15): every capture
// operation fails with a message that says so, and MarkSession marks
// nothing. The endpoint's reads and writes do not depend on it.
#include "runtime/endpoint/postgres/pg_capture.h"

namespace duet::pg {
namespace {

Status NotYet(const std::string& system) {
  return FailedPreconditionError("system '" + system +
                                 "': capture on PostgreSQL is not built yet (issue 15)");
}

class NoCapture : public PgCapture {
 public:
  explicit NoCapture(std::string system) : system_(std::move(system)) {}

  Expected<endpoint::CaptureCounts> Install(const std::vector<std::string>&) override {
    return NotYet(system_);
  }
  Expected<endpoint::CaptureCounts> Uninstall() override { return NotYet(system_); }
  Status Check(const std::vector<std::string>&) override { return NotYet(system_); }
  Expected<std::string> BoundState() override { return NotYet(system_); }
  Status BindState(const std::string&) override { return NotYet(system_); }
  Expected<endpoint::Endpoint::Stream> ReadStream(const std::vector<std::string>&,
                                                  const endpoint::Position&, size_t) override {
    return NotYet(system_);
  }
  Expected<endpoint::Position> StreamEnd() override { return NotYet(system_); }
  Expected<endpoint::Endpoint::Inserts> ReadInserts(
      const std::string&, const endpoint::Position&, std::string_view,
      const std::optional<endpoint::Position>&) override {
    return NotYet(system_);
  }
  Expected<std::vector<std::pair<endpoint::RowId, endpoint::Position>>> ReadOwnInserts(
      const std::string&, std::string_view, const endpoint::Position&) override {
    return NotYet(system_);
  }
  Expected<int64_t> CountChanges(const std::string&, const endpoint::Position&,
                                 std::string_view) override {
    return NotYet(system_);
  }
  Expected<std::optional<double>> LatestChangeTime(const std::string&, const endpoint::RowId&,
                                                   const endpoint::Position&) override {
    return NotYet(system_);
  }
  Expected<bool> OwnChangeAfter(const std::string&, const endpoint::RowId&, std::string_view,
                                const endpoint::Position&) override {
    return NotYet(system_);
  }
  Status PruneChangelog(const endpoint::Position&) override { return NotYet(system_); }
  int ChangeFd() override { return -1; }
  endpoint::Endpoint::ChangeState CheckChanges() override {
    return endpoint::Endpoint::ChangeState::kNone;
  }
  Status MarkSession(Connection&, std::string_view) override { return Status::Ok(); }

 private:
  std::string system_;
};

}  // namespace

Expected<std::unique_ptr<PgCapture>> OpenLogicalCapture(const std::string&,
                                                        const std::string& system,
                                                        std::vector<CapturedTable>) {
  return std::unique_ptr<PgCapture>(new NoCapture(system));
}

}  // namespace duet::pg
