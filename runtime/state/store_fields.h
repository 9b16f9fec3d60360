// How every state store implementation writes the interface's values as
// column text and reads them back (part of duet_state, no database): map
// phases, latency counts, error items, the store's id. The conformance
// suite holds the implementations to the same values; these keep them to
// the same text, so that a store reads alike with any database's client.
#ifndef DUET_RUNTIME_STATE_STORE_FIELDS_H_
#define DUET_RUNTIME_STATE_STORE_FIELDS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "runtime/base/status.h"
#include "runtime/state/state_store.h"

namespace duet::state {

// 128 random bits as 32 hex digits: a new store's id.
std::string NewStoreId();

// "new", "initial", "live"; text that is none of them reads as kNew.
const char* PhaseName(MapPhase phase);
MapPhase ParsePhase(std::string_view text);

// A time the store wrote as ISO text; DataLoss naming `what` for text that
// is not one (a store edited by hand).
Expected<double> StoredTime(std::string_view text, const std::string& what);

// A histogram's bucket counts as "c0,c1,...", and back with its count n.
std::string CountsText(const LatencyHistogram& h);
LatencyHistogram ParseCounts(std::string_view text, int64_t n);

// A recorded backlog as duet_meta's text ("AT\tSYSTEM\tN\tSYSTEM\tN..."),
// its key there, and back: DataLoss for text that is not one.
std::string BacklogKey(const std::string& map);
std::string BacklogText(const RecordedBacklog& backlog);
Expected<RecordedBacklog> ParseBacklog(std::string_view text);

// The columns every implementation selects for an error item, in this
// order, NULLs read as empty text.
inline constexpr char kErrorColumns[] =
    "id, map, system, row_id, kind, reason, coalesce(source_row, ''), coalesce(other_id, ''), "
    "coalesce(other_row, ''), coalesce(detail, ''), attempts, first_at, last_at, status, "
    "coalesce(request, ''), coalesce(closed_by, '')";
// The error item of one row of kErrorColumns, given each column's text;
// DataLoss for a stored value that is not one duet writes.
Expected<ErrorItem> ErrorItemFromColumns(const std::function<std::string_view(int)>& column);

}  // namespace duet::state

#endif  // DUET_RUNTIME_STATE_STORE_FIELDS_H_
