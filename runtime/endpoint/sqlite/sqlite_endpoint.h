// The SQLite endpoint: capture by triggers into a changelog table, reads
// with lookup paths as LEFT JOINs, writes in BEGIN IMMEDIATE transactions.
// One connection; not thread-safe (the engine uses an endpoint from one
// thread).
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_SQLITE_ENDPOINT_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_SQLITE_ENDPOINT_H_

#include <memory>
#include <string>

#include "runtime/endpoint/endpoint.h"

namespace duet::endpoint {

// `path` must name an existing database file.
Expected<std::unique_ptr<Endpoint>> OpenSqliteEndpoint(const std::string& path,
                                                       const std::string& system,
                                                       const bundle::Manifest& manifest);

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_SQLITE_ENDPOINT_H_
