// The reconcile decision (docs/sync.md, "How a pair of rows is
// reconciled"): given what is known of a pair of rows, what to do with it.
// Decide reads nothing, writes nothing and asks no clock: the facts that
// cost a read (who changed a row, when) or a transform's run (what a row
// as the merge leaves it projects to) come in PairSnapshot::facts, and a
// decision that needs one that is not there says so (Decision::need) for
// the caller to get it and decide again. SyncEngine::Impl::Reconcile
// reads the pair, calls Decide and applies the decision.
#ifndef DUET_RUNTIME_ENGINE_DECIDE_H_
#define DUET_RUNTIME_ENGINE_DECIDE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duet/abi.h"
#include "runtime/endpoint/value.h"

namespace duet::engine {

// One field of a map: the outputs of each side's transform that carry it,
// and the rule that settles a conflict on it.
struct FieldPlan {
  std::string rule;           // a system, "newest", "manual", or "" (none)
  std::vector<int> slots[2];  // slots[s]: outputs of side s's transform
  // constant[s]: side s's end of the mapping is a constant (`PARTYTYPE <-
  // "Person"`): a default for rows that side creates, which never changes,
  // so a differing value on the other side is not drift.
  bool constant[2] = {false, false};
};

// What a transform made of a row.
struct Projection {
  int32_t status = DUET_OK;
  std::vector<endpoint::Value> values;
  std::string error_kind;
  std::string message;
  // DUET_OK: the output slots whose value does not fit them (a null against
  // `not null`, a string too long, a decimal too large). Writing one of them
  // fails the row (FirstSlotError); a pair whose other side wins them syncs.
  // Such a slot holds its null, or Unknown when the value was cut off, which
  // equals nothing, so that a later change never looks unchanged.
  struct SlotError {
    int slot;
    std::string kind;     // as the error queue names it
    std::string message;  // "SLOT: ..."
  };
  std::vector<SlotError> slot_errors;
};

// The first slot error of `p` among `slots`, in the order of `slots`; null
// if none.
const Projection::SlotError* FirstSlotError(const Projection& p, const std::vector<int>& slots);

// The four value vectors a link's base keeps (docs/sync.md): per side s,
// P[s] the outputs of side s's transform, C[s] side s's own values of the
// columns the other side's transform writes.
struct Base {
  std::vector<endpoint::Value> p[2];
  std::vector<endpoint::Value> c[2];
};

// A map's rules as Decide needs them; the pointers are the plan's.
struct PairRules {
  const std::vector<FieldPlan>* fields = nullptr;
  std::string_view system[2];
  std::string_view master;  // the map's rule, for a delete against an update
  bool has_transform[2] = {false, false};
  // current_index[s][j]: where side s's row holds the column the other
  // side's transform writes with its output j.
  const std::vector<int>* current_index[2] = {nullptr, nullptr};
  // input_index[s]: where side s's row holds the inputs of side s's
  // transform; null when it may read any of them.
  const std::vector<int>* input_index[2] = {nullptr, nullptr};
};

// Facts about a pair that cost a read; nullopt until read.
struct PairFacts {
  // When both rows of a linked pair differ from its base: the one side
  // whose difference is an application's, or -1 when both or neither
  // (SyncEngine::Impl::OnlyAppChanged).
  std::optional<int> only_app_changed;
  // The linked row that survives its partner's deletion was changed by an
  // application (SyncEngine::Impl::AppChanged).
  std::optional<bool> kept_app_changed;
  // Each row's latest change captured after the map's checkpoint, if any,
  // for `newest`; change_times_read once they were read.
  bool change_times_read = false;
  std::optional<double> change_time[2];
  // merged[s]: rows of side s as a merge would leave them (side s's row
  // with the values the merge writes into it, Need::kMergedRows), each with
  // what side s's transform makes of it. A one-way field flowing from side
  // s takes its value from there, so that it follows the values the merge
  // writes into its source columns.
  struct MergedRow {
    std::vector<endpoint::Value> row;
    Projection proj;
  };
  std::vector<MergedRow> merged[2];
};

// What is known of a pair when its change is reconciled.
struct PairSnapshot {
  const PairRules* rules = nullptr;
  int trigger = 0;      // the side whose change is reconciled
  bool linked = false;  // the pair has a link
  // Reconcile matched the rows itself since the pair was read: a partner
  // found by key, inserted, or brought back after a deletion. Then only
  // the merge is left to decide.
  bool matched = false;
  // Each side's row in its shape order; null when the pair has no row there.
  const std::vector<endpoint::Value>* row[2] = {nullptr, nullptr};
  // Each row's projection: DUET_FILTERED when there is no row or no
  // transform on that side.
  const Projection* proj[2] = {nullptr, nullptr};
  const Base* base = nullptr;  // the link's base; null when none or unusable
  // >= 0: that side wins every field that differs (initial sync, or a pair
  // just brought back); otherwise the rules decide.
  int seed = -1;
  int take = -1;               // an operator's `--take`: that side wins; -1 otherwise
  bool just_inserted = false;  // the pair came into being by duet's insert
  PairFacts facts;
};

// A fact Decide needs before it can decide.
enum class Need { kNothing, kOnlyAppChanged, kKeptAppChanged, kChangeTimes, kMergedRows };

enum class Step {
  kNothing,        // nothing to write, the link stays
  kError,          // record `error`; nothing else changes
  kUnlink,         // drop the link; close the pair's items when `resolve`
  kDelete,         // delete side `side`'s row, drop the link, close the items
  kRestore,        // bring side `side`'s deleted row back, then merge with seed 1 - side
  kNothingToSync,  // the unlinked row has nothing to sync (`why`, `filtered`)
  kFindPartner,    // the unlinked row of side `trigger`: find its partner by key or insert one
  kMerge,          // write `write_slots`, link the pair; conflicts keep their base
};

// An error item to record on row `side` of the pair.
struct ErrorItem {
  enum class Attach {
    kRow,            // that row
    kRowAndPartner,  // that row and the other side's row id
    kBothRows,       // both rows
  };
  int side = 0;
  std::string kind;
  std::string reason;
  Attach attach = Attach::kRow;
};

struct Decision {
  Need need = Need::kNothing;  // not kNothing: read it, decide again
  Step step = Step::kNothing;
  int side = -1;                   // kDelete, kRestore: the side written; kKeptAppChanged: the row
  bool resolve = false;            // kUnlink: the pair's open items close
  std::optional<ErrorItem> error;  // kError
  std::string why;                 // kNothingToSync
  bool filtered = false;           // kNothingToSync: the map's filter left the row out
  // need kMergedRows: project[s], when set, is a row of side s to run side
  // s's transform on and add to facts.merged[s].
  std::optional<std::vector<endpoint::Value>> project[2];
  // kMerge: write_slots[w] are the outputs of side w's transform whose
  // values side 1 - w gets; conflicts are the fields both sides changed
  // under a manual rule, left unwritten, whose base the link keeps and
  // which a conflict item reports.
  std::vector<int> write_slots[2];
  std::vector<const FieldPlan*> conflicts;
  // kMerge: when set, the values write_slots[w] index (else pair.proj[w]'s):
  // the one-way fields from side w as its row is after the merge's write
  // into it (write_slots[1 - w]), the rest as read.
  std::optional<Projection> merged[2];
  // kMerge: the side written first. Values written from a merged row hold
  // only if the write into that row is made, so that write goes first and
  // a refusal of it keeps them out. When the values written each way
  // depend on the other write, no order can (the map's one-way fields on
  // both sides read columns the other side changed); then side 1 is first.
  int first_into = 1;
};

Decision Decide(const PairSnapshot& pair);

// The side that wins a field both sides changed under `rule`, or -1 for
// manual; `trigger` when `newest` finds no change time. Needs
// facts.change_times_read for `newest` (nullopt back when missing).
std::optional<int> RuleWinner(const PairRules& rules, std::string_view rule, int trigger,
                              const PairFacts& facts);

// A `seed` for a new pair both of whose rows changed since the initial
// sync began: each differing field goes by the map's rules.
inline constexpr int kByRule = -2;

// The initial sync's winner `seed` (>= 0) for a new pair matched by key,
// given whether an application edited each row since the map's checkpoint:
// an edit of the other side's row is newer than the seeding side's rule
// (docs/sync.md, "Initial sync"), so that side wins, or the rules decide
// when both rows were edited (kByRule).
int SeedAfterEdits(int seed, const bool edited[2]);

}  // namespace duet::engine

#endif  // DUET_RUNTIME_ENGINE_DECIDE_H_
