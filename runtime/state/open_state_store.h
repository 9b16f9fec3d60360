// Opening the state store by URL: the one place that knows which
// implementation each scheme names. Linked by the command line, not by the
// engine, which sees only the StateStore interface.
#ifndef DUET_RUNTIME_STATE_OPEN_STATE_STORE_H_
#define DUET_RUNTIME_STATE_OPEN_STATE_STORE_H_

#include <memory>
#include <string>

#include "runtime/base/status.h"
#include "runtime/state/state_store.h"

namespace duet::state {

// Opens the state store at `url`: "sqlite:PATH", or a plain PATH (a SQLite
// file), or a libpq URI "postgresql://..." or "postgres://..." (the tables
// in the first schema of its search_path; postgres_state_store.h). An unknown scheme is
// InvalidArgument; a store of a newer schema version than this duet knows is FailedPrecondition; an
// older one is migrated on open, in one transaction.
Expected<std::unique_ptr<StateStore>> OpenStateStore(
    const std::string& url, StateStore::OpenMode mode = StateStore::OpenMode::kExisting);

}  // namespace duet::state

#endif  // DUET_RUNTIME_STATE_OPEN_STATE_STORE_H_
