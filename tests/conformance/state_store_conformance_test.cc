// The state store's contract (runtime/state/state_store.h), run over every
// implementation (state_store_factory.h): links, checkpoints, the error
// queue, control records, latency, units of work, fencing, schema
// migration. Real stores in a temporary directory.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/engine/base_codec.h"
#include "runtime/state/open_state_store.h"
#include "runtime/state/state_store.h"
#include "tests/conformance/state_store_factory.h"

namespace duet::conformance {
namespace {

namespace fs = std::filesystem;
using state::Link;
using state::StateStore;
using Store = std::unique_ptr<StateStore>;

class StateStoreConformance : public testing::TestWithParam<StateStoreFactory> {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("duet-conformance-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(dir_);
    url_ = GetParam().new_url(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }

  Store Open(StateStore::OpenMode mode = StateStore::OpenMode::kCreate) {
    return OpenAt(url_, mode);
  }
  static Store OpenAt(const std::string& url,
                      StateStore::OpenMode mode = StateStore::OpenMode::kExisting) {
    Expected<Store> store = state::OpenStateStore(url, mode);
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The store of an earlier version at `url` opens with ThePreviousContent.
  void ExpectMigrated(const std::string& url);

  fs::path dir_;
  std::string url_;
};

// A position as a store holds it: opaque bytes (0: the beginning).
endpoint::Position P(int n) {
  return n == 0 ? endpoint::Position()
                : endpoint::Position::FromBytes(std::string("\0p", 2) + std::to_string(n));
}

Link L(std::string left, std::string right, std::string base = "b") {
  return Link{std::move(left), std::move(right), std::move(base), P(1), P(2)};
}

std::vector<std::string> Lefts(const std::vector<Link>& links) {
  std::vector<std::string> out;
  for (const Link& l : links) out.push_back(l.left_id);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(StateStoreConformance, OnlyCreateMakesAStore) {
  Expected<Store> missing = state::OpenStateStore(url_, StateStore::OpenMode::kExisting);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  Store store = Open();
  ASSERT_TRUE(store);
  std::string id = store->id();
  EXPECT_EQ(id.size(), 32u);
  store.reset();
  Store again = OpenAt(url_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id(), id) << "the id is made once";
}

TEST_P(StateStoreConformance, LinksPutGetReplaceDelete) {
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutLink("m", Link{"1", "a", std::string("\0\1\2", 3), P(5), P(6)}).ok());
  Expected<std::optional<Link>> by_left = store->LinkByLeft("m", "1");
  ASSERT_TRUE(by_left.ok() && *by_left);
  EXPECT_EQ((*by_left)->right_id, "a");
  EXPECT_EQ((*by_left)->base, std::string("\0\1\2", 3)) << "bases are bytes";
  EXPECT_EQ((*by_left)->left_position, P(5));
  EXPECT_EQ((*by_left)->right_position, P(6));
  Expected<std::optional<Link>> by_right = store->LinkByRight("m", "a");
  ASSERT_TRUE(by_right.ok() && *by_right);
  EXPECT_EQ((*by_right)->left_id, "1");
  EXPECT_FALSE(*store->LinkByLeft("other", "1")) << "links are per map";
  EXPECT_FALSE(*store->LinkByRight("m", "1")) << "sides are apart";

  // A link of either row replaces the old one.
  ASSERT_TRUE(store->PutLink("m", L("1", "b")).ok());
  EXPECT_FALSE(*store->LinkByRight("m", "a"));
  ASSERT_TRUE(store->PutLink("m", L("2", "b")).ok());
  EXPECT_FALSE(*store->LinkByLeft("m", "1"));
  EXPECT_EQ(*store->CountLinks("m"), 1);

  ASSERT_TRUE(store->UpdateBase("m", "2", "new").ok());
  EXPECT_EQ((*store->LinkByLeft("m", "2"))->base, "new");
  ASSERT_TRUE(store->DeleteLink("m", "2").ok());
  EXPECT_EQ(*store->CountLinks("m"), 0);
  EXPECT_EQ(*store->CountLinks("never"), 0);
}

TEST_P(StateStoreConformance, IdsComeBackAsTheyWereGiven) {
  // Numbers, numbers that are not canonical, text, GUIDs, beyond 64 bits.
  std::vector<std::string> ids = {"7",
                                  "007",
                                  "-3",
                                  "+3",
                                  "0",
                                  "-0",
                                  "1e3",
                                  " 1",
                                  "abc",
                                  "",
                                  "9223372036854775807",
                                  "9223372036854775808",
                                  "{6f9619ff-8b86-d011-b42d-00c04fc964ff}"};
  Store store = Open();
  ASSERT_TRUE(store);
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(store->PutLink("m", L(ids[i], "r" + ids[i])).ok()) << ids[i];
  }
  EXPECT_EQ(*store->CountLinks("m"), static_cast<int64_t>(ids.size())) << "no two ids collide";
  for (const std::string& id : ids) {
    Expected<std::optional<Link>> l = store->LinkByLeft("m", id);
    ASSERT_TRUE(l.ok() && *l) << "'" << id << "'";
    EXPECT_EQ((*l)->left_id, id);
    Expected<std::optional<Link>> r = store->LinkByRight("m", "r" + id);
    ASSERT_TRUE(r.ok() && *r) << id;
    EXPECT_EQ((*r)->left_id, id);
  }
  Expected<std::vector<Link>> many = store->LinksByLeft("m", ids);
  ASSERT_TRUE(many.ok());
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Lefts(*many), sorted);
}

// RowIds are bytes: an application's text key may hold a byte that is not
// UTF-8, a NUL or backslashes, and every place a store keeps a RowId (links,
// waiting changes, error items, the cursors of initial sync and resync)
// gives it back as it was, distinct from every other.
TEST_P(StateStoreConformance, IdsOfAnyBytesComeBackAsTheyWereGiven) {
  std::vector<std::string> ids = {std::string("a\xff", 2),
                                  std::string("n\0ul", 4),
                                  "back\\slash",
                                  "\\x41",
                                  "A",
                                  "\\\\",
                                  std::string("\xc3\xa9t\xc3\xa9", 6)};
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Begin().ok());
  for (const std::string& id : ids) ASSERT_TRUE(store->PutLink("m", L(id, "r" + id)).ok());
  ASSERT_TRUE(store->Commit().ok());
  EXPECT_EQ(*store->CountLinks("m"), static_cast<int64_t>(ids.size()));
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Lefts(*store->LinksByLeft("m", ids)), sorted);
  for (const std::string& id : ids) {
    Expected<std::optional<Link>> l = store->LinkByRight("m", "r" + id);
    ASSERT_TRUE(l.ok() && *l);
    EXPECT_EQ((*l)->left_id, id);
  }
  Expected<std::vector<std::string>> among = store->LinkedAmong("m", 0, ids);
  ASSERT_TRUE(among.ok());
  std::sort(among->begin(), among->end());
  EXPECT_EQ(*among, sorted);

  const std::string& odd = ids[0];
  ASSERT_TRUE(store->AddWaiting("m", {"fo", odd, 1, "w"}).ok());
  EXPECT_EQ(store->ListWaiting("m")->at(0).row_id, odd);
  state::ErrorItem item;
  item.map = "m";
  item.system = "fo";
  item.row_id = odd;
  item.other_id = ids[1];
  item.kind = "conflict";
  ASSERT_TRUE(store->RecordError(item).ok());
  Expected<std::vector<state::ErrorItem>> open = store->OpenErrors("m");
  ASSERT_TRUE(open.ok() && open->size() == 1u);
  EXPECT_EQ((*open)[0].row_id, odd);
  EXPECT_EQ((*open)[0].other_id, ids[1]);
  ASSERT_TRUE(store->ResolveErrors("m", "fo", odd, 2).ok());
  EXPECT_EQ(*store->CountOpenErrors("m"), 0);

  state::MapState m;
  m.name = "m";
  m.initial_cursor = ids[1];
  ASSERT_TRUE(store->PutMap(m).ok());
  EXPECT_EQ(store->GetMap("m")->initial_cursor, ids[1]);
  state::Resync r;
  r.map = "m";
  r.from = "fo";
  r.cursor = odd;
  ASSERT_TRUE(store->PutResync(r).ok());
  EXPECT_EQ((*store->GetResync("m"))->cursor, odd);
}

TEST_P(StateStoreConformance, LinksInBulk) {
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Begin().ok());
  std::vector<std::string> lefts, rights;
  for (int i = 0; i < 1200; ++i) {
    ASSERT_TRUE(store->PutLink("m", L(std::to_string(i), "r" + std::to_string(i))).ok());
    if (i % 2 == 0) lefts.push_back(std::to_string(i));
    if (i % 3 == 0) rights.push_back("r" + std::to_string(i));
  }
  ASSERT_TRUE(store->Commit().ok());
  lefts.push_back("nope");
  Expected<std::vector<Link>> by_left = store->LinksByLeft("m", lefts);
  ASSERT_TRUE(by_left.ok());
  EXPECT_EQ(by_left->size(), 600u) << "more ids than one query takes";
  Expected<std::vector<Link>> by_right = store->LinksByRight("m", rights);
  ASSERT_TRUE(by_right.ok());
  EXPECT_EQ(by_right->size(), 400u);
  Expected<std::vector<std::string>> among = store->LinkedAmong("m", 1, {"r3", "r5000", "3"});
  ASSERT_TRUE(among.ok());
  EXPECT_EQ(*among, std::vector<std::string>{"r3"});
  among = store->LinkedAmong("m", 0, {"3", "r3", "1199", "1200"});
  ASSERT_TRUE(among.ok());
  std::sort(among->begin(), among->end());
  EXPECT_EQ(*among, (std::vector<std::string>{"1199", "3"}));
  EXPECT_EQ(*store->CountLinks("m"), 1200);
}

TEST_P(StateStoreConformance, MapsAndCheckpoints) {
  Store store = Open();
  ASSERT_TRUE(store);
  Expected<state::MapState> fresh = store->GetMap("m");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->phase, state::MapPhase::kNew);
  state::MapState m;
  m.name = "m";
  m.phase = state::MapPhase::kInitial;
  m.initial_step = 2;
  m.initial_cursor = "c";
  m.initial_done = 5;
  m.initial_total = 9;
  m.last_sync = 1767225600.25;  // 2026-01-01T00:00:00.250Z
  ASSERT_TRUE(store->PutMap(m).ok());
  Expected<state::MapState> back = store->GetMap("m");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->phase, state::MapPhase::kInitial);
  EXPECT_EQ(back->initial_step, 2);
  EXPECT_EQ(back->initial_cursor, "c");
  EXPECT_EQ(back->initial_done, 5);
  EXPECT_EQ(back->initial_total, 9);
  EXPECT_EQ(back->last_sync, m.last_sync);

  EXPECT_EQ(*store->GetCheckpoint("m", "fo"), P(0));
  EXPECT_EQ(*store->GetCommitEnd("m", "fo"), P(0));
  ASSERT_TRUE(store->SetCheckpoint("m", "fo", P(10)).ok());
  ASSERT_TRUE(store->SetCommitEnd("m", "fo", P(12)).ok());
  ASSERT_TRUE(store->SetCheckpoint("m", "fo", P(11)).ok());
  EXPECT_EQ(*store->GetCheckpoint("m", "fo"), P(11));
  EXPECT_EQ(*store->GetCommitEnd("m", "fo"), P(12)) << "the two are kept apart";
  EXPECT_EQ(*store->GetCheckpoint("m", "ce"), P(0));
  // Any bytes come back as they were; the bound after all is never stored.
  endpoint::Position odd = endpoint::Position::FromBytes(std::string("\xff\0\x80", 3));
  ASSERT_TRUE(store->SetCheckpoint("m", "ce", odd).ok());
  EXPECT_EQ(*store->GetCheckpoint("m", "ce"), odd);
  EXPECT_EQ(store->SetCheckpoint("m", "ce", endpoint::Position::AfterAll()).code(),
            StatusCode::kInvalidArgument);
  Link after_all = L("7", "g");
  after_all.left_position = endpoint::Position::AfterAll();
  EXPECT_EQ(store->PutLink("m", after_all).code(), StatusCode::kInvalidArgument);
}

TEST_P(StateStoreConformance, ErrorQueueLifecycle) {
  Store store = Open();
  ASSERT_TRUE(store);
  state::ErrorItem item;
  item.map = "m";
  item.system = "fo";
  item.row_id = "5";
  item.kind = "conflict";
  item.reason = "first";
  item.detail = "{}";
  item.last_at = 1000.5;
  ASSERT_TRUE(store->RecordError(item).ok());
  item.reason = "second";
  item.last_at = 2000.25;
  ASSERT_TRUE(store->RecordError(item).ok());
  Expected<std::vector<state::ErrorItem>> open = store->OpenErrors("m");
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u) << "one open item per row";
  EXPECT_EQ((*open)[0].attempts, 2);
  EXPECT_EQ((*open)[0].reason, "second");
  EXPECT_EQ((*open)[0].status, state::ItemStatus::kOpen);
  EXPECT_EQ((*open)[0].first_at, 1000.5) << "times come back to the millisecond";
  EXPECT_EQ((*open)[0].last_at, 2000.25);
  int64_t id = (*open)[0].id;
  EXPECT_EQ(*store->CountOpenErrors("m"), 1);
  EXPECT_EQ(*store->CountErrorsSince("m", 2000), 1);
  EXPECT_EQ(*store->CountErrorsSince("m", 2000.5), 0);
  EXPECT_EQ(store->RequestRetry(id, state::ItemRequest()).code(), StatusCode::kInvalidArgument);

  state::ItemRequest take_fo{state::ItemRequest::Kind::kTake, "fo"};
  ASSERT_TRUE(store->RequestRetry(id, take_fo).ok());
  Expected<std::vector<state::ErrorItem>> requested = store->RequestedErrors("m");
  ASSERT_TRUE(requested.ok());
  ASSERT_EQ(requested->size(), 1u);
  EXPECT_EQ((*requested)[0].request, take_fo);
  ASSERT_TRUE(store->ClearRequest(id).ok());
  EXPECT_TRUE(store->RequestedErrors("m")->empty());

  ASSERT_TRUE(store->ResolveErrors("m", "fo", "5", 3000, "the row is gone").ok());
  Expected<std::optional<state::ErrorItem>> closed = store->GetError(id);
  ASSERT_TRUE(closed.ok() && *closed);
  EXPECT_EQ((*closed)->status, state::ItemStatus::kResolved);
  EXPECT_EQ((*closed)->last_at, 3000) << "closed at `at`";
  EXPECT_EQ((*closed)->closed_by, "duet");
  EXPECT_NE((*closed)->reason.find("the row is gone"), std::string::npos);
  EXPECT_EQ(store->RequestRetry(id, {state::ItemRequest::Kind::kRetry, ""}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store->DiscardError(id, "ops", 3001).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store->RecordError(item).ok());
  open = store->OpenErrors("m");
  ASSERT_TRUE(open.ok() && open->size() == 1u);
  EXPECT_NE((*open)[0].id, id) << "a new item after the old one closed";
  ASSERT_TRUE(store->DiscardError((*open)[0].id, "ops", 3002).ok());
  EXPECT_EQ(*store->CountOpenErrors("m"), 0);
  state::ErrorFilter all;
  all.open_only = false;
  EXPECT_EQ(store->ListErrors(all)->size(), 2u);
  all.kind = "missing";
  EXPECT_TRUE(store->ListErrors(all)->empty());
}

TEST_P(StateStoreConformance, RecordsTheLastBacklogPerMap) {
  Store store = Open();
  ASSERT_TRUE(store);
  Expected<std::optional<state::RecordedBacklog>> none = store->GetRecordedBacklog("m");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(*none);
  ASSERT_TRUE(store->RecordBacklog("m", {1700000000.25, {{"fo", 12}, {"ce", 0}}}).ok());
  ASSERT_TRUE(store->RecordBacklog("m", {1700000005.5, {{"fo", 3}, {"ce", 7}}}).ok());
  ASSERT_TRUE(store->RecordBacklog("other map", {1700000001, {{"fo", 1}}}).ok());
  Expected<std::optional<state::RecordedBacklog>> got = store->GetRecordedBacklog("m");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->at, 1700000005.5) << "the last one replaces the one before";
  std::map<std::string, int64_t> want = {{"ce", 7}, {"fo", 3}};
  EXPECT_EQ((*got)->changes, want);
  EXPECT_EQ((*store->GetRecordedBacklog("other map"))->changes.at("fo"), 1);
  EXPECT_TRUE(store->CheckFile().ok()) << "the store is still the one it opened";
}

TEST_P(StateStoreConformance, PauseResyncWaitingLatency) {
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PauseMap({"m", 1500.125, "ops", "first"}).ok());
  ASSERT_TRUE(store->PauseMap({"m", 1600, "ops", "second"}).ok());
  Expected<std::map<std::string, state::Pause>> paused = store->Paused();
  ASSERT_TRUE(paused.ok());
  ASSERT_EQ(paused->count("m"), 1u);
  EXPECT_EQ(paused->at("m").reason, "first") << "the first pause stays";
  EXPECT_EQ(paused->at("m").since, 1500.125);
  ASSERT_TRUE(store->ResumeMap("m").ok());
  EXPECT_EQ(store->ResumeMap("m").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Paused()->empty());

  state::Resync r;
  r.map = "m";
  r.from = "fo";
  r.cursor = "10";
  r.done = 3;
  r.total = 2;
  r.by = "ops";
  r.where = "QTY > 1";
  ASSERT_TRUE(store->PutResync(r).ok());
  Expected<std::optional<state::Resync>> back = store->GetResync("m");
  ASSERT_TRUE(back.ok() && *back);
  EXPECT_EQ((*back)->from, "fo");
  EXPECT_EQ((*back)->cursor, "10");
  EXPECT_EQ((*back)->total, 3) << "done never shows above total";
  EXPECT_EQ((*back)->where, "QTY > 1");
  ASSERT_TRUE(store->EndResync("m").ok());
  EXPECT_FALSE(*store->GetResync("m"));

  ASSERT_TRUE(store->AddWaiting("m", {"fo", "1", 100, "first"}).ok());
  ASSERT_TRUE(store->AddWaiting("m", {"fo", "1", 200, "again"}).ok());
  ASSERT_TRUE(store->AddWaiting("m", {"ce", "1", 150, "other"}).ok());
  Expected<std::vector<state::Waiting>> waiting = store->ListWaiting("m");
  ASSERT_TRUE(waiting.ok() && waiting->size() == 2u);
  EXPECT_EQ((*waiting)[0].since, 100) << "keeps the first since, oldest first";
  EXPECT_EQ((*waiting)[0].reason, "again");
  ASSERT_TRUE(store->RemoveWaiting("m", "fo", "1").ok());
  EXPECT_EQ(store->ListWaiting("m")->size(), 1u);

  state::LatencyHistogram h;
  h.Add(0.001);
  h.Add(0.5);
  ASSERT_TRUE(store->AddLatency("m", "fo->ce", 100, h).ok());
  ASSERT_TRUE(store->AddLatency("m", "fo->ce", 100, h).ok());
  ASSERT_TRUE(store->AddLatency("m", "fo->ce", 90, h).ok());
  Expected<std::map<std::string, state::LatencyHistogram>> since = store->LatencySince("m", 95);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->at("fo->ce").n, 4);
  EXPECT_EQ(since->at("fo->ce").Quantile(0.25), h.Quantile(0.5));
  ASSERT_TRUE(store->PruneLatency(100).ok());
  EXPECT_EQ(store->LatencySince("m", 0)->at("fo->ce").n, 4);
  ASSERT_TRUE(store->PruneLatency(101).ok());
  EXPECT_TRUE(store->LatencySince("m", 0)->empty());
}

// Everything a unit of work wrote, for the atomicity tests.
void WriteUnit(StateStore& store) {
  ASSERT_TRUE(store.PutLink("m", L("1", "a")).ok());
  ASSERT_TRUE(store.SetCheckpoint("m", "fo", P(9)).ok());
  state::ErrorItem e;
  e.map = "m";
  e.system = "fo";
  e.row_id = "1";
  e.kind = "conflict";
  ASSERT_TRUE(store.RecordError(e).ok());
}

void ExpectNothingOfTheUnit(StateStore& store) {
  EXPECT_FALSE(*store.LinkByLeft("m", "1"));
  EXPECT_EQ(*store.CountLinks("m"), 0);
  EXPECT_EQ(*store.GetCheckpoint("m", "fo"), P(0));
  EXPECT_EQ(*store.CountOpenErrors("m"), 0);
}

TEST_P(StateStoreConformance, AUnitOfWorkIsAllOrNothing) {
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Begin().ok());
  WriteUnit(*store);
  store->Rollback();
  ExpectNothingOfTheUnit(*store);

  // A handle that goes away mid-unit (a crash) leaves nothing either.
  ASSERT_TRUE(store->BeginRead().ok());
  WriteUnit(*store);
  store.reset();
  Store reopened = OpenAt(url_);
  ASSERT_TRUE(reopened);
  ExpectNothingOfTheUnit(*reopened);

  // Another handle sees a unit only once it is committed.
  ASSERT_TRUE(reopened->Begin().ok());
  WriteUnit(*reopened);
  Store reader = OpenAt(url_);
  ASSERT_TRUE(reader);
  ExpectNothingOfTheUnit(*reader);
  ASSERT_TRUE(reopened->Commit().ok());
  EXPECT_TRUE(*reader->LinkByLeft("m", "1"));
  EXPECT_EQ(*reader->GetCheckpoint("m", "fo"), P(9));
  EXPECT_EQ(*reader->CountOpenErrors("m"), 1);
}

TEST_P(StateStoreConformance, AWorkerThatLostItsLeaseCannotCommit) {
  Store first = Open();
  ASSERT_TRUE(first);
  Expected<int64_t> e1 = first->AcquireLease("host:1");
  ASSERT_TRUE(e1.ok()) << e1.status().message();
  Expected<int64_t> again = first->AcquireLease("host:1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *e1) << "the holder taking it again keeps its epoch";

  Store second = OpenAt(url_);
  ASSERT_TRUE(second);
  Expected<int64_t> e2 = second->AcquireLease("host:2");
  ASSERT_TRUE(e2.ok());
  EXPECT_GT(*e2, *e1);

  ASSERT_TRUE(first->Begin().ok());
  WriteUnit(*first);
  Status lost = first->Commit();
  EXPECT_TRUE(state::IsLeaseLost(lost)) << lost.message();
  EXPECT_EQ(lost.code(), StatusCode::kFailedPrecondition);
  ExpectNothingOfTheUnit(*second);
  ExpectNothingOfTheUnit(*first);

  // The same for a unit that started reading before the lease changed.
  Store third = OpenAt(url_);
  ASSERT_TRUE(third);
  ASSERT_TRUE(second->BeginRead().ok());
  EXPECT_EQ(*second->CountLinks("m"), 0);
  ASSERT_TRUE(third->AcquireLease("host:3").ok());
  Status write = second->PutLink("m", L("1", "a"));
  Status commit = write.ok() ? second->Commit() : write;
  if (!write.ok()) second->Rollback();
  EXPECT_FALSE(commit.ok()) << "a worker fenced mid-unit committed";
  ExpectNothingOfTheUnit(*third);

  // The newest holder commits; a handle without a lease is not fenced.
  ASSERT_TRUE(third->Begin().ok());
  WriteUnit(*third);
  EXPECT_TRUE(third->Commit().ok());
  Store operator_command = OpenAt(url_);
  ASSERT_TRUE(operator_command);
  EXPECT_TRUE(operator_command->PauseMap({"m", 1, "ops", "x"}).ok());
  ASSERT_TRUE(operator_command->Begin().ok());
  EXPECT_TRUE(operator_command->ResumeMap("m").ok());
  EXPECT_TRUE(operator_command->Commit().ok());
}

// Migration, for the implementations that have a previous schema version
// (StateStoreFactory::previous_version). One still at its first version (the
// PostgreSQL store) has nothing to migrate: it is not instantiated here, and
// StateStoreConformance.AStoreWithoutAPreviousVersionIsAtItsFirst holds it to
// version 1, so that its second version cannot come without a fixture of
// its first.
class StateStoreMigration : public StateStoreConformance {};

TEST_P(StateStoreConformance, AStoreWithoutAPreviousVersionIsAtItsFirst) {
  Store store = Open();
  ASSERT_TRUE(store);
  if (GetParam().previous_version == nullptr) {
    EXPECT_EQ(store->SchemaVersion(), 1) << "a store past its first schema version needs a "
                                            "previous-version fixture in its factory";
  } else {
    EXPECT_GT(store->SchemaVersion(), 1) << "a previous version before the first";
  }
}

TEST_P(StateStoreMigration, APreviousVersionIsMigratedWithEverythingInIt) {
  ExpectMigrated(GetParam().previous_version(dir_));
}

TEST_P(StateStoreMigration, TheOldestVersionIsMigratedWithEverythingInIt) {
  ExpectMigrated(GetParam().oldest_version(dir_));
}

void StateStoreConformance::ExpectMigrated(const std::string& url) {
  PreviousContent c = ThePreviousContent();
  // Only install (kCreate) migrates: any other open refuses the earlier
  // version and leaves it as it was, so the earlier duet still runs it.
  for (int i = 0; i < 2; ++i) {
    Expected<Store> refused = state::OpenStateStore(url, StateStore::OpenMode::kExisting);
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(state::IsEarlierSchema(refused.status())) << refused.status().message();
    EXPECT_NE(refused.status().message().find("duet install"), std::string::npos)
        << refused.status().message();
  }
  Store store = OpenAt(url, StateStore::OpenMode::kCreate);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->id(), c.store_id);
  EXPECT_EQ(store->GetMap("customers")->phase, state::MapPhase::kLive);
  // The previous version's seqs become the positions of the endpoint that
  // wrote them.
  auto position = GetParam().position_of;
  EXPECT_EQ(*store->GetCheckpoint(c.checkpoint_map, c.checkpoint_system),
            position(c.checkpoint_seq));
  EXPECT_EQ(*store->GetCommitEnd(c.checkpoint_map, c.checkpoint_system), position(c.commit_end));
  for (const PreviousContent::FixtureLink& l : c.links) {
    Expected<std::optional<Link>> got = store->LinkByRight(l.map, l.right_id);
    ASSERT_TRUE(got.ok() && *got) << l.map << " " << l.right_id;
    EXPECT_EQ((*got)->left_id, l.left_id);
    EXPECT_EQ((*got)->left_position, position(l.left_seq));
    EXPECT_EQ((*got)->right_position, position(l.right_seq));
    engine::base_codec::Decoded base;
    ASSERT_TRUE(engine::base_codec::Decode((*got)->base, &base)) << "a migrated base decodes";
    auto expect = [&](const std::vector<endpoint::Value>& want,
                      const std::vector<endpoint::Value>& have, const char* what) {
      ASSERT_EQ(have.size(), want.size()) << what;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(have[i].tag(), want[i].tag()) << what << i;
        if (!want[i].is_unknown()) {
          EXPECT_TRUE(have[i] == want[i]) << what << i;
        }
      }
    };
    expect(l.p0, base.p[0], "P0 ");
    expect(l.c1, base.c[1], "C1 ");
    expect(l.p1, base.p[1], "P1 ");
    expect(l.c0, base.c[0], "C0 ");
  }
  EXPECT_EQ(*store->CountLinks("customers"), 2);
  EXPECT_EQ(*store->CountLinks("orders"), 1);
  Expected<std::vector<state::ErrorItem>> errors = store->OpenErrors(c.error_map);
  ASSERT_TRUE(errors.ok() && errors->size() == 1u);
  EXPECT_EQ((*errors)[0].row_id, c.error_row);
  EXPECT_EQ((*errors)[0].kind, c.error_kind);
  EXPECT_EQ((*errors)[0].detail, c.error_detail);
  EXPECT_EQ((*errors)[0].attempts, 2);
  EXPECT_EQ(store->Paused()->count(c.paused_map), 1u);
  EXPECT_EQ(store->ListWaiting("customers")->size(), 1u);

  // The migrated store works as a new one, and opens again as it is.
  ASSERT_TRUE(store->PutLink("customers", L("2", "102")).ok());
  EXPECT_EQ(*store->CountLinks("customers"), 3);
  store.reset();
  Store again = OpenAt(url);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again->CountLinks("customers"), 3);
  EXPECT_EQ(again->id(), c.store_id);
}

TEST_P(StateStoreConformance, ANewerVersionIsRefused) {
  Store store = Open();
  ASSERT_TRUE(store);
  store.reset();
  GetParam().make_newer(url_);
  Expected<Store> newer = state::OpenStateStore(url_);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("newer"), std::string::npos) << newer.status().message();
}

std::string FactoryName(const testing::TestParamInfo<StateStoreFactory>& info) {
  return info.param.name;
}

std::vector<StateStoreFactory> MigratingFactories() {
  std::vector<StateStoreFactory> out;
  for (const StateStoreFactory& f : StateStoreFactories()) {
    if (f.previous_version != nullptr) out.push_back(f);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Stores, StateStoreConformance, testing::ValuesIn(StateStoreFactories()),
                         FactoryName);
INSTANTIATE_TEST_SUITE_P(Stores, StateStoreMigration, testing::ValuesIn(MigratingFactories()),
                         FactoryName);
// An executable whose stores are all at their first version (the PostgreSQL
// one) has no migration to test; see StateStoreMigration.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StateStoreMigration);

TEST(OpenStateStore, UnknownSchemesAreRefusedAndPathsAreSqlite) {
  Expected<Store> other = state::OpenStateStore("mysql://host/db");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("mysql"), std::string::npos);
  Expected<Store> none = state::OpenStateStore("sqlite:");
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  fs::path dir = fs::temp_directory_path() / ("duet-open-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Expected<Store> plain =
      state::OpenStateStore((dir / "s.db").string(), StateStore::OpenMode::kCreate);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  std::string id = (*plain)->id();
  plain->reset();
  Expected<Store> url = state::OpenStateStore("sqlite:" + (dir / "s.db").string());
  ASSERT_TRUE(url.ok());
  EXPECT_EQ((*url)->id(), id) << "a plain path and sqlite:PATH name the same store";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace duet::conformance
