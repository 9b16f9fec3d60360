// The SQLite endpoint's positions (position.h): its changelog's seq, an
// integer that grows in commit order (one writer at a time), as 8 bytes
// big-endian, so that bytewise order is numeric order. Seq 0 is the
// beginning (the empty position). The state store's migration from int64
// seqs uses the same encoding.
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_SEQ_POSITION_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_SEQ_POSITION_H_

#include <cstdint>

#include "runtime/base/status.h"
#include "runtime/endpoint/position.h"

namespace duet::sqlite {

// `seq` >= 0 as a position (0: the beginning).
endpoint::Position SeqPosition(int64_t seq);
// The seq of a position SeqPosition made; InvalidArgument for any other
// bytes (a length other than 0 or 8, a negative number, AfterAll).
Expected<int64_t> PositionSeq(const endpoint::Position& position);

}  // namespace duet::sqlite

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_SEQ_POSITION_H_
