// Capture by triggers (pg_capture.h's OpenTriggerCapture), for servers
// where logical replication cannot be enabled: what it installs, how it
// names it, and its positions. The class itself is in trigger_capture.cc;
// docs/postgresql.md, "Trigger mode", says why commit order is kept so.
//
// Names: from logical capture's prefix P (NamesFor, logical_capture.h) and
// "_trg", in the connection's current schema: the change rows P_trg_changes,
// the commit order P_trg_commits, the record of what install created (and
// the bound state id) P_trg_installed, one row function per captured table
// P_trg_row_<hash of its name> and the notify function P_trg_notify; on
// each captured table the triggers P_trg_row and P_trg_stmt; the NOTIFY
// channel P_trg.
//
// Positions: 16 bytes, the transaction's number in P_trg_commits (8 bytes
// big-endian, from 1) and the change row's seq (8 bytes big-endian), so
// bytewise order is the order in which transactions became visible to
// capture, then the order of the changes in their transaction. The
// beginning is empty; anything else (another length, a number of 0) is not
// a position.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_TRIGGER_CAPTURE_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_TRIGGER_CAPTURE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/position.h"
#include "runtime/endpoint/postgres/pg_capture.h"

namespace duet::pg {

struct ChangeRowPoint {
  uint64_t commit = 0;  // the transaction's number in the commit order
  uint64_t seq = 0;     // the change row's seq
};

endpoint::Position EncodeChangeRowPosition(ChangeRowPoint point);
// nullopt for the beginning; InvalidArgument for bytes
// EncodeChangeRowPosition did not make (and for AfterAll).
Expected<std::optional<ChangeRowPoint>> DecodeChangeRowPosition(const endpoint::Position& position);

// The SQL expression of the RowId (pg_row_key.h) of the row `record`
// ("NEW", "OLD") for a key of `key_columns`: each value printed by its
// type's output function (format's %s), one column's text as it is, a
// composite key's texts as a compact JSON array, byte for byte what
// EncodeRowId makes of the same texts.
std::string RowIdSql(const std::string& record, const std::vector<std::string>& key_columns);

// The capture OpenTriggerCapture returns. Connects only when first used.
std::unique_ptr<PgCapture> MakeTriggerCapture(std::string conninfo, std::string system,
                                              std::vector<CapturedTable> tables);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_TRIGGER_CAPTURE_H_
