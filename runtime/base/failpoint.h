// Failpoints: named places in the runtime where a test makes duet fail or
// die, to prove that a failure at each commit boundary loses nothing
// (docs/sync.md, "Crash safety"). Off unless DUET_FAILPOINTS is set, and
// then a map lookup per hit: cheap enough to stay in release builds.
//
//   DUET_FAILPOINTS=NAME=ACTION[@N][,NAME=ACTION[@N]...]
//     ACTION  error  the point returns Unavailable (a transient failure that
//                    `duet run` retries in the same process)
//             fail   the point returns Internal (the command stops, exit 2)
//             kill   the process kills itself with SIGKILL
//             wait   the point blocks until the file DIR/NAME.go exists
//     @N      act on the N-th hit only (default 1); other hits pass
//   DUET_FAILPOINTS_DIR=DIR  each hit that acts appends a line to
//                    DIR/NAME.hit before acting, so a test can count where
//                    its failures landed (and see that a `wait` is waiting)
#ifndef DUET_RUNTIME_BASE_FAILPOINT_H_
#define DUET_RUNTIME_BASE_FAILPOINT_H_

#include <string_view>

#include "runtime/base/status.h"

namespace duet {

// Ok unless the environment arms `name` for this hit; see above.
Status Failpoint(std::string_view name);

}  // namespace duet

#endif  // DUET_RUNTIME_BASE_FAILPOINT_H_
