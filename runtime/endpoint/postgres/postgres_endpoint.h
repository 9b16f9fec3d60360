// The PostgreSQL endpoint: endpoint.h over one PostgreSQL database, through
// runtime/pg's libpq wrapper.
//
// - Tables: the manifest's `fo.CustCustomerV3Entity` is the table
//   "CustCustomerV3Entity" (quoted, so case matters), unqualified: the
//   connection's search_path places it (`?options=-csearch_path%3Dsales`).
// - Rows are named by the primary key (pg_row_key.h): readers select the
//   key columns as the server prints them, the text the replication stream
//   carries too. Scans go in the key's order as the database sorts it (its
//   columns' own collations, the same for ORDER BY and for resuming after a
//   RowId), which is a total order over the rows.
// - Values cross as text (pg_types.h), compared by the server as the
//   column's type (FindRow on a numeric key: 1.5 = 1.50).
// - One connection per endpoint for reads and the write transaction, so
//   reads made in a transaction see its snapshot and its writes. A lost
//   connection is Unavailable; the next use outside a transaction (Begin
//   included) connects again.
// - Write transactions are REPEATABLE READ with their snapshot taken at
//   Begin, so a write to a row changed since (which the engine's reads did
//   not see) fails with a serialization failure, Unavailable. kNow:
//   ReadForUpdate is SELECT ... FOR UPDATE and writes wait up to the lock
//   timeout for a row another writer holds; kAtFirstWrite: ReadForUpdate is
//   FOR UPDATE NOWAIT and writes wait for no lock, and a serialization
//   failure or a lock held by another writer is also LostLockRace. Locks are
//   per row: an application's write to another row goes on beside duet's
//   transaction (docs/postgresql.md, "Row identity and locks").
// - Capture is pg_capture.h's, which the endpoint forwards to and asks to
//   mark its session before each transaction.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_POSTGRES_ENDPOINT_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_POSTGRES_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/endpoint/postgres/pg_capture.h"

namespace duet::endpoint {

// Makes the capture of an endpoint (OpenLogicalCapture's signature): the
// way PostgreSQL reports changes is chosen by whoever opens the endpoint.
using PgCaptureOpener = std::function<Expected<std::unique_ptr<pg::PgCapture>>(
    const std::string& conninfo, const std::string& system, std::vector<pg::CapturedTable> tables)>;

// Opens the database `conninfo` names (a libpq URI or keyword string) as
// system `system`, whose tables the manifest (which must outlive the
// endpoint) describes, with the capture its duet_capture option names
// (capture_option.h: logical decoding unless it says triggers). A server that
// cannot be reached is Unavailable; messages name the connection by
// `system`, never by its string.
Expected<std::unique_ptr<Endpoint>> OpenPostgresEndpoint(const std::string& conninfo,
                                                         const std::string& system,
                                                         const bundle::Manifest& manifest);
// The same with the capture `open_capture` makes.
Expected<std::unique_ptr<Endpoint>> OpenPostgresEndpoint(const std::string& conninfo,
                                                         const std::string& system,
                                                         const bundle::Manifest& manifest,
                                                         const PgCaptureOpener& open_capture);

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_POSTGRES_ENDPOINT_H_
