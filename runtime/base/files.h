// Files that must not leak: written whole or not at all, and created
// private (mode 0600) from the first byte when they hold secrets or row
// data. Never through a name someone else prepared: a file is created
// exclusively (O_EXCL) and symbolic links are not followed (O_NOFOLLOW).
#ifndef DUET_RUNTIME_BASE_FILES_H_
#define DUET_RUNTIME_BASE_FILES_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace duet {

// Private files: read and written by their owner only.
constexpr mode_t kPrivateFileMode = 0600;
// Ordinary output (bundles, public keys): as the umask allows.
constexpr mode_t kSharedFileMode = 0666;

// Writes `bytes` to `path` through a new file of a unique name in the same
// directory (created exclusively with `mode`, the umask applying; exactly
// 0600 for kPrivateFileMode) and a rename, so a reader never sees half a
// file, a failed write leaves the old file in place, and a file or link
// someone placed beforehand is never written through. The error names
// `path` and says why ("cannot write 'x.duetb': No such file or
// directory").
Status WriteFileAtomically(const std::string& path, std::string_view bytes, mode_t mode);

// Opens `path` for `flags` (O_RDWR, O_WRONLY | O_APPEND, ...), creating it
// with mode exactly 0600 whatever the umask when it does not exist; an
// existing file keeps its mode. The file descriptor (close-on-exec), or an
// IoError naming `what` and `path` with the reason.
Expected<int> OpenPrivateFile(const std::string& path, int flags, std::string_view what);

}  // namespace duet

#endif  // DUET_RUNTIME_BASE_FILES_H_
