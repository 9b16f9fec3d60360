// The endpoint conformance suite: the contracts of runtime/endpoint/
// endpoint.h, run against every implementation through its harness
// (endpoint_harness.h). An implementation is correct for duet only if it
// passes every test here unchanged; end-to-end tests then check how the
// engine uses them.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/conformance/endpoint_harness.h"

namespace duet::conformance {

bundle::Manifest SuiteManifest() {
  auto text = [](int64_t length) {
    bundle::ColumnType t;
    t.kind = bundle::ValueKind::kString;
    t.length = length;
    return t;
  };
  bundle::ColumnType decimal;
  decimal.kind = bundle::ValueKind::kDecimal;
  decimal.precision = 19;
  decimal.scale = 4;
  bundle::ColumnType integer;
  integer.kind = bundle::ValueKind::kInt;

  bundle::Manifest m;
  m.systems = {"fo"};
  bundle::Table customer;
  customer.name = "fo.customer";
  customer.system = "fo";
  customer.columns = {{"id", integer, true, false, std::nullopt},
                      {"code", text(20), true, false, std::nullopt},
                      {"name", text(100), false, false, std::nullopt},
                      {"credit", decimal, false, false, std::nullopt}};
  customer.key = {"code"};
  customer.id = "id";
  customer.id_type = integer.ToString();
  bundle::Table contact;
  contact.name = "fo.contact";
  contact.system = "fo";
  contact.columns = {{"id", integer, true, false, std::nullopt},
                     {"email", text(100), true, false, std::nullopt},
                     {"customer_code", text(20), false, false, std::nullopt}};
  contact.key = {"email"};
  contact.id = "id";
  contact.id_type = integer.ToString();
  bundle::ColumnType guid;
  guid.kind = bundle::ValueKind::kGuid;
  bundle::Table account;
  account.name = "fo.account";
  account.system = "fo";
  account.columns = {{"accountid", guid, true, false, std::nullopt},
                     {"name", text(100), false, false, std::nullopt}};
  account.key = {"accountid"};
  account.id = "accountid";
  account.id_type = guid.ToString();
  bundle::Table line;
  line.name = "fo.line";
  line.system = "fo";
  line.columns = {{"order_no", integer, true, false, std::nullopt},
                  {"line_no", integer, true, false, std::nullopt},
                  {"qty", integer, false, false, std::nullopt}};
  line.key = {"order_no", "line_no"};
  m.tables = {customer, contact, account, line};
  return m;
}

namespace {

using endpoint::ChangeOp;
using endpoint::Endpoint;
using endpoint::Position;
using endpoint::RowId;
using endpoint::Value;

constexpr char kCustomer[] = "fo.customer";
constexpr char kContact[] = "fo.contact";
constexpr char kAccount[] = "fo.account";
constexpr char kLine[] = "fo.line";
constexpr char kGuidA[] = "0190a5c2-1111-7000-8000-000000000001";
constexpr char kGuidB[] = "0190a5c2-2222-7000-8000-000000000002";
constexpr char kOrigin[] = "customers";

// A change as the suite compares them: table, operation, row.
using Seen = std::tuple<std::string, ChangeOp, RowId>;

class EndpointConformance : public testing::TestWithParam<HarnessFactory> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    ASSERT_TRUE(harness_->CreateDatabase().ok());
    manifest_ = SuiteManifest();
    Reopen();
    Expected<endpoint::CaptureCounts> counts =
        ep_->InstallCapture({kCustomer, kContact, kAccount, kLine});
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    EXPECT_EQ(counts->tables, 4);
    app_ = harness_->App();
  }

  void Reopen() {
    ep_.reset();
    Expected<std::unique_ptr<Endpoint>> ep = harness_->Open(manifest_);
    ASSERT_TRUE(ep.ok()) << ep.status().ToString();
    ep_ = std::move(*ep);
  }

  void App(const std::string& sql) { ASSERT_TRUE(app_->Exec(sql).ok()) << sql; }

  // Every change of the stream of `tables` (every captured table when
  // empty) after `after` not captured with `origin`, read in pages of
  // `page`, in stream order; and the positions they carry. Checks what
  // every read must hold: positions strictly increasing and after `after`,
  // each change of a table asked for, read_to never behind a change read.
  std::vector<Seen> Changes(const Position& after = Position(), std::string_view origin = "",
                            std::vector<Position>* positions = nullptr,
                            const std::vector<std::string>& tables = {}, size_t page = 1000) {
    std::vector<Seen> out;
    Position from = after;
    for (;;) {
      Expected<Endpoint::Stream> read = ep_->ReadStream(tables, from, page);
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (!read.ok()) return {};
      for (const endpoint::Change& change : read->changes) {
        EXPECT_GT(change.position, from) << "positions strictly increase";
        from = change.position;
        if (!tables.empty()) {
          EXPECT_NE(std::find(tables.begin(), tables.end(), change.table), tables.end())
              << change.table << " was not asked for";
        }
        if (change.origin == origin && !origin.empty()) continue;
        if (positions) positions->push_back(change.position);
        out.emplace_back(change.table, change.op, change.row_id);
      }
      EXPECT_GE(read->read_to, from) << "read_to is behind a change it returned";
      if (read->changes.size() < page) {
        EXPECT_GE(read->read_to, after);
        break;
      }
      from = read->read_to;
    }
    return out;
  }

  RowId IdOf(const char* table, const char* column, const std::string& key) {
    Expected<std::optional<RowId>> id = ep_->FindRow(table, {column}, {Value::String(key)});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(id.ok() && id->has_value()) << key << " not found in " << table;
    return id.ok() && id->has_value() ? **id : RowId();
  }
  RowId Customer(const std::string& code) { return IdOf(kCustomer, "code", code); }
  RowId Contact(const std::string& email) { return IdOf(kContact, "email", email); }

  std::optional<std::string> NameOf(const RowId& id) {
    auto reader = ep_->Reader(kCustomer, {{{"name"}, manifest_.tables[0].columns[2].type}});
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return std::nullopt;
    Expected<std::optional<endpoint::Row>> row = (*reader)->Read(id);
    EXPECT_TRUE(row.ok());
    if (!row.ok() || !row->has_value()) return std::nullopt;
    return (*row)->values[0].ToText();
  }

  // The customer's name and code, as a reader reads them.
  std::vector<endpoint::ColumnPath> NameAndCode() const {
    return {{{"name"}, manifest_.tables[0].columns[2].type},
            {{"code"}, manifest_.tables[0].columns[1].type}};
  }

  Status DuetInsert(const std::string& code, const std::string& name, RowId* id = nullptr) {
    Expected<RowId> r =
        txn_->Insert(kCustomer, {"code", "name"}, {Value::String(code), Value::String(name)});
    if (r.ok() && id) *id = *r;
    return r.status();
  }

  void Begin(Endpoint::WriteLock lock) {
    Expected<std::unique_ptr<endpoint::WriteTransaction>> txn = ep_->Begin(kOrigin, lock);
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    txn_ = std::move(*txn);
  }

  std::unique_ptr<EndpointHarness> harness_;
  bundle::Manifest manifest_;
  std::unique_ptr<Endpoint> ep_;
  std::unique_ptr<AppSession> app_;
  std::unique_ptr<endpoint::WriteTransaction> txn_;
};

TEST_P(EndpointConformance, CaptureInstallIsIdempotentAndUninstallRemovesExactlyIt) {
  Expected<endpoint::CaptureCounts> again =
      ep_->InstallCapture({kCustomer, kContact, kAccount, kLine});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->objects, 0) << "a second install added objects";
  EXPECT_TRUE(ep_->CheckCapture({kCustomer, kContact}).ok());
  Expected<endpoint::CaptureCounts> removed = ep_->UninstallCapture();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_GT(removed->objects, 0);
  EXPECT_FALSE(ep_->CheckCapture({kCustomer}).ok());
  // The application's writes go on as before.
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("UPDATE customer SET name = 'Anne' WHERE code = 'A'");
  App("DELETE FROM customer WHERE code = 'A'");
}

TEST_P(EndpointConformance, ChangesOfAllTablesComeInCommitOrder) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO contact (email, customer_code) VALUES ('a@x', 'A')");
  App("UPDATE customer SET name = 'Anne' WHERE code = 'A'");
  ASSERT_TRUE(app_->Begin().ok());
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  App("UPDATE contact SET customer_code = 'B' WHERE email = 'a@x'");
  ASSERT_TRUE(app_->Commit().ok());
  App("DELETE FROM contact WHERE email = 'a@x'");

  RowId a = Customer("A");
  RowId b = Customer("B");
  std::vector<Position> positions;
  std::vector<Seen> changes = Changes(Position(), "", &positions);
  // The contact's id is gone with it; take it from the first change.
  ASSERT_EQ(changes.size(), 6u);
  RowId c = std::get<2>(changes[1]);
  std::vector<Seen> want = {
      {kCustomer, ChangeOp::kInsert, a}, {kContact, ChangeOp::kInsert, c},
      {kCustomer, ChangeOp::kUpdate, a}, {kCustomer, ChangeOp::kInsert, b},
      {kContact, ChangeOp::kUpdate, c},  {kContact, ChangeOp::kDelete, c},
  };
  EXPECT_EQ(changes, want);
  // The same in pages of one, and for the set of the two tables.
  EXPECT_EQ(Changes(Position(), "", nullptr, {}, 1), want);
  EXPECT_EQ(Changes(Position(), "", nullptr, {kContact, kCustomer}, 2), want);
  // A set of one table: its changes alone, in the same order.
  std::vector<Seen> contacts = {{kContact, ChangeOp::kInsert, c},
                                {kContact, ChangeOp::kUpdate, c},
                                {kContact, ChangeOp::kDelete, c}};
  EXPECT_EQ(Changes(Position(), "", nullptr, {kContact}, 1), contacts);
  Expected<Position> end = ep_->StreamEnd();
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, positions.back()) << "the end is the newest change's position";
  // Read to the end, a one-table read passes the other tables' changes.
  Expected<Endpoint::Stream> lines = ep_->ReadStream({kLine}, Position(), 10);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_TRUE(lines->changes.empty());
  EXPECT_EQ(lines->read_to, *end);
}

TEST_P(EndpointConformance, PositionsIncreaseStrictlyAndResumeAfterReopen) {
  Expected<Position> empty_end = ep_->StreamEnd();
  ASSERT_TRUE(empty_end.ok());
  EXPECT_TRUE(empty_end->is_beginning()) << "no change yet: the end is the beginning";
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO account (accountid, name) VALUES ('" + std::string(kGuidA) + "', 'Acme')");
  App("UPDATE customer SET name = 'Anne' WHERE code = 'A'");
  std::vector<Position> before;
  ASSERT_EQ(Changes(Position(), "", &before, {}, 1).size(), 3u);
  Expected<Endpoint::Stream> first = ep_->ReadStream({}, Position(), 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->changes.size(), 2u);
  EXPECT_EQ(first->read_to, before[1]) << "a full page is read up to its last change";
  Position checkpoint = first->read_to;
  Reopen();
  App("DELETE FROM account WHERE name = 'Acme'");
  std::vector<Position> after;
  std::vector<Seen> rest = Changes(checkpoint, "", &after, {}, 1);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(std::get<1>(rest[0]), ChangeOp::kUpdate);
  EXPECT_EQ(std::get<0>(rest[1]), kAccount);
  EXPECT_EQ(std::get<1>(rest[1]), ChangeOp::kDelete);
  EXPECT_EQ(after[0], before[2]) << "a change keeps its position across a reopen";
  EXPECT_GT(after[1], before[2]) << "a new change comes after every earlier one";
  // Rendered for people and read back as the same position.
  Expected<Position> parsed = Position::FromHex(after[1].ToHex());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, after[1]);
}

TEST_P(EndpointConformance, AMalformedPositionIsAnErrorNotACrash) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  Expected<Position> end = ep_->StreamEnd();
  ASSERT_TRUE(end.ok());
  ASSERT_FALSE(end->is_beginning());
  const std::string& good = end->bytes();
  std::vector<Position> bad = {
      Position::FromBytes(good.substr(0, good.size() - 1)),
      Position::FromBytes(good + std::string(1, '\0')),
      Position::FromBytes(std::string(good.size(), '\xff')),
      Position::AfterAll(),
  };
  for (const Position& p : bad) {
    Expected<Endpoint::Stream> read = ep_->ReadStream({}, p, 10);
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << p.ToString();
    read = ep_->ReadStream({kCustomer}, p, 10);
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << p.ToString();
  }
  EXPECT_EQ(Position::FromHex("0g").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Position::FromHex("abc").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(EndpointConformance, EachChangeCarriesItsTimeAndOrigin) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  RowId mine;
  ASSERT_TRUE(DuetInsert("D", "Duet", &mine).ok());
  ASSERT_TRUE(txn_->Commit().ok());
  Expected<Endpoint::Stream> read = ep_->ReadStream({}, Position(), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->changes.size(), 2u);
  const endpoint::Change& app = read->changes[0];
  const endpoint::Change& duet = read->changes[1];
  EXPECT_EQ(app.origin, "");
  EXPECT_EQ(duet.origin, kOrigin);
  EXPECT_EQ(duet.row_id, mine);
  EXPECT_GT(app.at, 0);
  EXPECT_GT(duet.at, 0);
  // The time `newest` compares is the one the stream carries.
  Expected<std::optional<double>> latest = ep_->LatestChangeTime(kCustomer, app.row_id, Position());
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ(**latest, app.at);
}

TEST_P(EndpointConformance, ReadingResumesFromACheckpointAfterReopen) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  Expected<Endpoint::Stream> first = ep_->ReadStream({kCustomer}, Position(), 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->changes.size(), 1u) << "limit 1";
  Position checkpoint = first->read_to;
  Reopen();
  App("INSERT INTO customer (code, name) VALUES ('C', 'Cyd')");
  std::vector<Seen> rest = Changes(checkpoint);
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, Customer("B")},
                            {kCustomer, ChangeOp::kInsert, Customer("C")}};
  EXPECT_EQ(rest, want);
  EXPECT_EQ(Changes(checkpoint, "", nullptr, {kCustomer}, 1), want);
}

TEST_P(EndpointConformance, DuetsWritesCarryTheirOriginAndNoOtherChangeDoes) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  RowId mine;
  ASSERT_TRUE(DuetInsert("D", "Duet", &mine).ok());
  RowId a = Customer("A");
  ASSERT_TRUE(txn_->Update(kCustomer, a, {"name"}, {Value::String("Anne")}).ok());
  ASSERT_TRUE(txn_->Commit().ok());
  App("UPDATE customer SET name = 'Ann' WHERE code = 'A'");

  std::vector<Seen> others = Changes(Position(), kOrigin);
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, a}, {kCustomer, ChangeOp::kUpdate, a}};
  EXPECT_EQ(others, want) << "only the application's changes, without duet's two";
  EXPECT_EQ(Changes(Position(), "another map").size(), 4u) << "another map sees all four";
  Expected<int64_t> counted = ep_->CountChanges(kCustomer, Position(), kOrigin);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(*counted, 2);

  Expected<bool> own = ep_->OwnChangeAfter(kCustomer, mine, kOrigin, Position());
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(*own);
  Expected<std::optional<double>> app_time = ep_->LatestChangeTime(kCustomer, mine, Position());
  ASSERT_TRUE(app_time.ok());
  EXPECT_FALSE(app_time->has_value()) << "no application changed duet's row";
  app_time = ep_->LatestChangeTime(kCustomer, a, Position());
  ASSERT_TRUE(app_time.ok());
  EXPECT_TRUE(app_time->has_value());
  Expected<std::vector<std::pair<RowId, Position>>> inserts =
      ep_->ReadOwnInserts(kCustomer, kOrigin, Position());
  ASSERT_TRUE(inserts.ok());
  ASSERT_EQ(inserts->size(), 1u);
  EXPECT_EQ((*inserts)[0].first, mine);
}

// An application writing while duet's transaction holds the lock either
// waits for it or goes on beside it; either way its change is its own.
TEST_P(EndpointConformance, AnApplicationCommitDuringDuetsTransactionIsNotDuets) {
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  ASSERT_TRUE(DuetInsert("D", "Duet").ok());
  std::unique_ptr<AppSession> other = harness_->App();
  Status started =
      other->StartBlockedWrite("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  ASSERT_TRUE(started.ok()) << started.ToString();
  ASSERT_TRUE(txn_->Commit().ok());
  ASSERT_TRUE(other->WaitDone().ok());
  std::vector<Seen> others = Changes(Position(), kOrigin);
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, Customer("A")}};
  EXPECT_EQ(others, want);
}

TEST_P(EndpointConformance, ACommitBeforeDuetsFirstWriteLosesTheRaceNotTheChange) {
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  Status s = DuetInsert("D", "Duet");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  txn_->Rollback();
  EXPECT_TRUE(ep_->LostLockRace());
  EXPECT_FALSE(ep_->LostLockRace()) << "said once";
  // Done again, the batch sees the application's row and writes its own.
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  ASSERT_TRUE(DuetInsert("D", "Duet").ok());
  ASSERT_TRUE(txn_->Commit().ok());
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, Customer("A")}};
  EXPECT_EQ(Changes(Position(), kOrigin), want);
}

TEST_P(EndpointConformance, ARefusedRowLeavesTheTransactionGoing) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  Position before = *ep_->StreamEnd();
  RowId a = Customer("A");
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  Status duplicate = DuetInsert("A", "Again");
  EXPECT_EQ(duplicate.code(), StatusCode::kFailedPrecondition) << duplicate.ToString();
  Status null_key = txn_->Update(kCustomer, a, {"code"}, {Value::Null()});
  EXPECT_EQ(null_key.code(), StatusCode::kFailedPrecondition) << null_key.ToString();
  RowId b;
  ASSERT_TRUE(DuetInsert("B", "Bob", &b).ok());
  ASSERT_TRUE(txn_->Update(kCustomer, a, {"name"}, {Value::String("Anne")}).ok());
  ASSERT_TRUE(txn_->Commit().ok());
  EXPECT_EQ(NameOf(a), "Anne");
  EXPECT_EQ(NameOf(b), "Bob");
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, b}, {kCustomer, ChangeOp::kUpdate, a}};
  EXPECT_EQ(Changes(before, "another map"), want) << "refused rows left no change";
}

TEST_P(EndpointConformance, RollbackLeavesNoRowAndNoChange) {
  Position before = *ep_->StreamEnd();
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  ASSERT_TRUE(DuetInsert("D", "Duet").ok());
  txn_->Rollback();
  Expected<std::optional<RowId>> id = ep_->FindRow(kCustomer, {"code"}, {Value::String("D")});
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(id->has_value());
  EXPECT_TRUE(Changes(before, "another map").empty());
  EXPECT_FALSE(ep_->LostLockRace());
}

TEST_P(EndpointConformance, PruningForgetsExactlyUpToThePosition) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  Position first = *ep_->StreamEnd();
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  ASSERT_EQ(Changes().size(), 2u);
  ASSERT_TRUE(ep_->PruneChangelog(first).ok());
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, Customer("B")}};
  EXPECT_EQ(Changes(), want);
}

TEST_P(EndpointConformance, ScansResumeInRowIdOrderAndReadManySkipsTheMissing) {
  for (const char* code : {"C", "A", "E", "B", "D"}) {
    App(std::string("INSERT INTO customer (code, name) VALUES ('") + code + "', 'n" + code + "')");
  }
  auto reader = ep_->Reader(kCustomer, {{{"code"}, manifest_.tables[0].columns[1].type}});
  ASSERT_TRUE(reader.ok());
  std::vector<RowId> seen;
  std::optional<RowId> after;
  for (int pages = 0; pages < 10; ++pages) {
    Expected<std::vector<endpoint::Row>> page = (*reader)->Scan(after, 2);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const endpoint::Row& row : *page) seen.push_back(row.id);
    after = page->back().id;
  }
  ASSERT_EQ(seen.size(), 5u) << "every row once";
  Expected<std::vector<RowId>> ids = (*reader)->ScanIds(std::nullopt, 100);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, seen) << "ScanIds and Scan agree on the order";
  Expected<int64_t> count = (*reader)->Count();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 5);
  RowId gone = Customer("E");
  App("DELETE FROM customer WHERE code = 'E'");
  Expected<std::vector<endpoint::Row>> some = (*reader)->ReadMany({Customer("A"), gone});
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 1u);
  EXPECT_EQ((*some)[0].values[0].ToText(), "A");
  Expected<std::optional<endpoint::Row>> missing = (*reader)->Read(gone);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(EndpointConformance, FindRowMatchesTheKeyAndNullMatchesNothing) {
  App("INSERT INTO contact (email, customer_code) VALUES ('a@x', 'A')");
  RowId c = Contact("a@x");
  Expected<std::optional<RowId>> none = ep_->FindRow(kContact, {"email"}, {Value::Null()});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Expected<Value> ref = ep_->RefValue(kContact, c);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_FALSE(ref->is_null()) << "a row with an id column is referred to by it";
}

// Read for update (WriteTransaction::ReadForUpdate): the rows it returns
// are the current ones, and an application's write to them waits for duet's
// transaction to end, under either WriteLock.
TEST_P(EndpointConformance, AnApplicationWriteToARowReadForUpdateWaitsForDuetsCommit) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  RowId a = Customer("A");
  for (Endpoint::WriteLock lock : {Endpoint::WriteLock::kAtFirstWrite, Endpoint::WriteLock::kNow}) {
    SCOPED_TRACE(lock == Endpoint::WriteLock::kNow ? "kNow" : "kAtFirstWrite");
    App("UPDATE customer SET name = 'Ann' WHERE code = 'A'");
    ASSERT_NO_FATAL_FAILURE(Begin(lock));
    Expected<std::vector<endpoint::Row>> rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {a});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].id, a);
    EXPECT_EQ((*rows)[0].values[0].ToText(), "Ann");
    EXPECT_EQ((*rows)[0].values[1].ToText(), "A");
    std::unique_ptr<AppSession> other = harness_->App();
    Status started = other->StartBlockedWrite("UPDATE customer SET name = 'Zoe' WHERE code = 'A'");
    ASSERT_TRUE(started.ok()) << "the application's write went through: " << started.ToString();
    // duet writes what it read the row as; the application's write lands
    // after it, not before it to be overwritten.
    ASSERT_TRUE(txn_->Update(kCustomer, a, {"name"}, {Value::String("Ann (duet)")}).ok());
    ASSERT_TRUE(txn_->Commit().ok());
    ASSERT_TRUE(other->WaitDone().ok());
    EXPECT_EQ(NameOf(a), "Zoe");
  }
}

// The rows returned are the database's values now, never an older snapshot's:
// a commit between Begin and the read is either seen, or the read loses the
// race as a first write would (a database-wide lock cannot be had on a
// stale snapshot).
TEST_P(EndpointConformance, ReadForUpdateReturnsTheCurrentRowsOrLosesTheRace) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  RowId a = Customer("A");
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  auto reader = ep_->Reader(kCustomer, NameAndCode());
  ASSERT_TRUE(reader.ok());
  Expected<std::optional<endpoint::Row>> before = (*reader)->Read(a);
  ASSERT_TRUE(before.ok() && before->has_value());
  EXPECT_EQ((*before)->values[0].ToText(), "Ann");
  App("UPDATE customer SET name = 'Anne' WHERE code = 'A'");
  Expected<std::vector<endpoint::Row>> rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {a});
  if (rows.ok()) {
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].values[0].ToText(), "Anne") << "a stale row read for update";
    txn_->Rollback();
    EXPECT_FALSE(ep_->LostLockRace());
  } else {
    EXPECT_EQ(rows.status().code(), StatusCode::kUnavailable) << rows.status().ToString();
    txn_->Rollback();
    EXPECT_TRUE(ep_->LostLockRace());
  }
  // Done again, it reads the application's value.
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {a});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].values[0].ToText(), "Anne");
  ASSERT_TRUE(txn_->Commit().ok());
}

TEST_P(EndpointConformance, ReadForUpdateLeavesOutMissingRowsOfAnyKeyShape) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('E', 'Eve')");
  App("INSERT INTO line (order_no, line_no, qty) VALUES (1, 1, 7)");
  App("INSERT INTO line (order_no, line_no, qty) VALUES (1, 2, 5)");
  RowId a = Customer("A");
  RowId gone = Customer("E");
  bundle::ColumnType integer;
  integer.kind = bundle::ValueKind::kInt;
  std::vector<endpoint::ColumnPath> line_paths = {
      {{"order_no"}, integer}, {{"line_no"}, integer}, {{"qty"}, integer}};
  auto lines = ep_->Reader(kLine, line_paths);
  ASSERT_TRUE(lines.ok());
  Expected<std::vector<RowId>> line_ids = (*lines)->ScanIds(std::nullopt, 10);
  ASSERT_TRUE(line_ids.ok());
  ASSERT_EQ(line_ids->size(), 2u);
  App("DELETE FROM customer WHERE code = 'E'");
  App("DELETE FROM line WHERE order_no = 1 AND line_no = 2");

  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  Expected<std::vector<endpoint::Row>> none = txn_->ReadForUpdate(kCustomer, NameAndCode(), {});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  Expected<std::vector<endpoint::Row>> rows =
      txn_->ReadForUpdate(kCustomer, NameAndCode(), {gone, a});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u) << "the deleted row is left out";
  EXPECT_EQ((*rows)[0].id, a);
  EXPECT_EQ((*rows)[0].values[0].ToText(), "Ann");
  rows = txn_->ReadForUpdate(kLine, line_paths, *line_ids);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].id, (*line_ids)[0]);
  EXPECT_EQ((*rows)[0].values[2].ToText(), "7");
  ASSERT_TRUE(txn_->Commit().ok());
}

// Another writer holding the lock makes read for update fail at once under
// kAtFirstWrite, as a first write would: the transaction is lost but can
// still be rolled back, and the batch done again once the writer is done.
TEST_P(EndpointConformance, ReadForUpdateWhileAnotherWriterHoldsTheLockLosesTheRace) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  RowId a = Customer("A");
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  std::unique_ptr<AppSession> other = harness_->App();
  ASSERT_TRUE(other->Begin().ok());
  ASSERT_TRUE(other->Exec("UPDATE customer SET name = 'Anne' WHERE code = 'A'").ok());
  Expected<std::vector<endpoint::Row>> rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {a});
  EXPECT_EQ(rows.status().code(), StatusCode::kUnavailable) << rows.status().ToString();
  txn_->Rollback();
  EXPECT_TRUE(ep_->LostLockRace());
  EXPECT_FALSE(ep_->LostLockRace()) << "said once";
  ASSERT_TRUE(other->Commit().ok());
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {a});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].values[0].ToText(), "Anne");
  ASSERT_TRUE(txn_->Update(kCustomer, a, {"name"}, {Value::String("Anne (duet)")}).ok());
  ASSERT_TRUE(txn_->Commit().ok());
  EXPECT_EQ(NameOf(a), "Anne (duet)");
}

// A refused write keeps the transaction, and with it the rows read for
// update before it, and reading for update after it still works.
TEST_P(EndpointConformance, ReadForUpdateWorksAroundARefusedWrite) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  RowId a = Customer("A");
  RowId b = Customer("B");
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  Expected<std::vector<endpoint::Row>> rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {a});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  Status duplicate = DuetInsert("B", "Again");
  EXPECT_EQ(duplicate.code(), StatusCode::kFailedPrecondition) << duplicate.ToString();
  rows = txn_->ReadForUpdate(kCustomer, NameAndCode(), {b});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].values[0].ToText(), "Bob");
  std::unique_ptr<AppSession> other = harness_->App();
  Status started = other->StartBlockedWrite("UPDATE customer SET name = 'Zoe' WHERE code = 'A'");
  ASSERT_TRUE(started.ok()) << "the row read before the refused write is unlocked: "
                            << started.ToString();
  ASSERT_TRUE(txn_->Update(kCustomer, b, {"name"}, {Value::String("Bob (duet)")}).ok());
  ASSERT_TRUE(txn_->Commit().ok());
  ASSERT_TRUE(other->WaitDone().ok());
  EXPECT_EQ(NameOf(a), "Zoe");
  EXPECT_EQ(NameOf(b), "Bob (duet)");
}

// The wait handle: after an application commits, the descriptor becomes
// readable (or the endpoint has none and asks to be polled) and
// CheckChanges says kChanged; nothing is missed.
TEST_P(EndpointConformance, TheWaitHandleWakesOnAnApplicationCommit) {
  auto drain = [&] {
    for (int i = 0; i < 1000; ++i) {
      if (ep_->CheckChanges() == Endpoint::ChangeState::kNone) return true;
      pollfd p{ep_->ChangeFd(), POLLIN, 0};
      if (p.fd >= 0) ::poll(&p, 1, 10);
    }
    return false;
  };
  int fd = ep_->ChangeFd();
  if (fd >= 0) {
    ASSERT_TRUE(drain()) << "quiet once nothing happens";
  }
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  bool changed = false;
  for (int i = 0; i < 1000 && !changed; ++i) {
    if (fd >= 0) {
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, 1, 10000);
    }
    changed = ep_->CheckChanges() == Endpoint::ChangeState::kChanged;
  }
  EXPECT_TRUE(changed);
}

TEST_P(EndpointConformance, TheBoundStateIdSurvivesReopen) {
  Expected<std::string> none = ep_->BoundState();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
  ASSERT_TRUE(ep_->BindState("state-1").ok());
  Reopen();
  Expected<std::string> bound = ep_->BoundState();
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(*bound, "state-1");
}

// Rows are named by their primary key, whatever its type and however many
// columns it has: the RowId a change carries reads the row, names it in a
// write, and stays the same across its changes.
TEST_P(EndpointConformance, APrimaryKeyOfAnyShapeNamesTheRow) {
  App(std::string("INSERT INTO account (accountid, name) VALUES ('") + kGuidA + "', 'Contoso')");
  App("INSERT INTO line (order_no, line_no, qty) VALUES (1, 2, 5)");
  App("INSERT INTO line (order_no, line_no, qty) VALUES (1, 1, 7)");
  App("INSERT INTO line (order_no, line_no, qty) VALUES (2, 1, 9)");
  App(std::string("UPDATE account SET name = 'Fabrikam' WHERE accountid = '") + kGuidA + "'");
  App("UPDATE line SET qty = 6 WHERE order_no = 1 AND line_no = 2");
  std::vector<Seen> changes = Changes();
  ASSERT_EQ(changes.size(), 6u);
  RowId account = std::get<2>(changes[0]);
  RowId line12 = std::get<2>(changes[1]);
  EXPECT_EQ(std::get<2>(changes[4]), account) << "one row, one RowId";
  EXPECT_EQ(std::get<2>(changes[5]), line12);
  std::set<RowId> lines = {line12, std::get<2>(changes[2]), std::get<2>(changes[3])};
  EXPECT_EQ(lines.size(), 3u) << "three rows, three RowIds";

  bundle::ColumnType integer;
  integer.kind = bundle::ValueKind::kInt;
  auto reader =
      ep_->Reader(kLine, {{{"order_no"}, integer}, {{"line_no"}, integer}, {{"qty"}, integer}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Expected<std::optional<endpoint::Row>> row = (*reader)->Read(line12);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->values[2].ToText(), "6");
  // Scans go in RowId order and resume after a composite RowId.
  std::vector<RowId> scanned;
  std::optional<RowId> after;
  for (int pages = 0; pages < 5; ++pages) {
    Expected<std::vector<RowId>> page = (*reader)->ScanIds(after, 1);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    scanned.push_back(page->front());
    after = page->front();
  }
  EXPECT_EQ(std::set<RowId>(scanned.begin(), scanned.end()), lines);
  EXPECT_EQ(scanned.size(), 3u);

  Position before = *ep_->StreamEnd();
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  ASSERT_TRUE(txn_->Update(kLine, line12, {"qty"}, {Value::Int(8)}).ok());
  ASSERT_TRUE(txn_->Update(kAccount, account, {"name"}, {Value::String("Tailspin")}).ok());
  Expected<RowId> made = txn_->Insert(kLine, {"order_no", "line_no", "qty"},
                                      {Value::Int(3), Value::Int(1), Value::Int(1)});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Expected<RowId> guid_row = txn_->Insert(kAccount, {"name"}, {Value::String("Made by duet")});
  ASSERT_TRUE(guid_row.ok()) << guid_row.status().ToString();
  ASSERT_TRUE(txn_->Delete(kLine, std::get<2>(changes[3])).ok());
  ASSERT_TRUE(txn_->Commit().ok());
  std::vector<Seen> want = {{kLine, ChangeOp::kUpdate, line12},
                            {kAccount, ChangeOp::kUpdate, account},
                            {kLine, ChangeOp::kInsert, *made},
                            {kAccount, ChangeOp::kInsert, *guid_row},
                            {kLine, ChangeOp::kDelete, std::get<2>(changes[3])}};
  EXPECT_EQ(Changes(before, "another map"), want) << "duet's writes name the rows it wrote";
  EXPECT_TRUE(Changes(before, kOrigin).empty());
  row = (*reader)->Read(*made);
  ASSERT_TRUE(row.ok() && row->has_value()) << "the RowId Insert returned reads the row";
  EXPECT_EQ((*row)->values[0].ToText(), "3");
  Expected<Value> ref = ep_->RefValue(kAccount, *guid_row);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_FALSE(ref->is_null()) << "a guid id was assigned";
}

TEST_P(EndpointConformance, AMalformedRowIdIsAnErrorNotACrash) {
  auto reader = ep_->Reader(kCustomer, {{{"code"}, manifest_.tables[0].columns[1].type}});
  ASSERT_TRUE(reader.ok());
  for (const char* bad : {"", "x", "99999999999999999999999", "[1,", "1.5e400"}) {
    Expected<std::optional<endpoint::Row>> row = (*reader)->Read(bad);
    EXPECT_TRUE(!row.ok() || !row->has_value()) << bad;
  }
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  Status s = txn_->Update(kLine, "not a key", {"qty"}, {Value::Int(1)});
  EXPECT_FALSE(s.ok());
  txn_->Rollback();
}

// An upsert of an existing primary key is the same row changed, not a new
// row; a delete and a new insert of the key is a new row. ReadInserts
// reports only the latter.
TEST_P(EndpointConformance, AnUpsertOfAnExistingKeyIsTheSameRow) {
  App(std::string("INSERT INTO account (accountid, name) VALUES ('") + kGuidA + "', 'Contoso')");
  App(std::string("INSERT INTO account (accountid, name) VALUES ('") + kGuidB + "', 'Litware')");
  Position linked = *ep_->StreamEnd();
  App(harness_->UpsertAccount(kGuidA, "Contoso Ltd"));
  App(std::string("DELETE FROM account WHERE accountid = '") + kGuidB + "'");
  App(std::string("INSERT INTO account (accountid, name) VALUES ('") + kGuidB + "', 'New')");
  std::vector<Seen> changes = Changes(linked);
  ASSERT_EQ(changes.size(), 3u);
  RowId a = std::get<2>(changes[0]);
  Expected<Endpoint::Inserts> inserts = ep_->ReadInserts(kAccount, linked, kOrigin, Position());
  ASSERT_TRUE(inserts.ok()) << inserts.status().ToString();
  ASSERT_EQ(inserts->rows.size(), 1u) << "only the row inserted after its key's delete";
  EXPECT_EQ(inserts->rows[0].first, std::get<2>(changes[2]));
  EXPECT_NE(inserts->rows[0].first, a);
  auto reader = ep_->Reader(kAccount, {{{"name"}, manifest_.tables[2].columns[1].type}});
  ASSERT_TRUE(reader.ok());
  Expected<std::optional<endpoint::Row>> row = (*reader)->Read(a);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->values[0].ToText(), "Contoso Ltd");
}

TEST_P(EndpointConformance, BulkInsertGivesEachRowItsOutcome) {
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  Position before = *ep_->StreamEnd();
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kAtFirstWrite));
  std::vector<std::vector<Value>> rows;
  for (const char* code : {"A", "B", "C"}) rows.push_back({Value::String(code), Value::Null()});
  Expected<std::vector<Expected<RowId>>> made = txn_->InsertMany(kCustomer, {"code", "name"}, rows);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->size(), 3u);
  EXPECT_TRUE((*made)[0].ok());
  EXPECT_EQ((*made)[1].status().code(), StatusCode::kFailedPrecondition) << "B exists";
  EXPECT_TRUE((*made)[2].ok());
  ASSERT_TRUE(txn_->Commit().ok());
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, *(*made)[0]},
                            {kCustomer, ChangeOp::kInsert, *(*made)[2]}};
  EXPECT_EQ(Changes(before, "another map"), want);
  EXPECT_EQ(Customer("C"), *(*made)[2]) << "the identities are the rows'";
}

TEST_P(EndpointConformance, OneTransactionAtATimeAndDestroyingOneRollsItBack) {
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  ASSERT_TRUE(DuetInsert("D", "Duet").ok());
  Expected<std::unique_ptr<endpoint::WriteTransaction>> second =
      ep_->Begin(kOrigin, Endpoint::WriteLock::kNow);
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  txn_.reset();
  Expected<std::optional<RowId>> id = ep_->FindRow(kCustomer, {"code"}, {Value::String("D")});
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(id->has_value()) << "rolled back";
  ASSERT_NO_FATAL_FAILURE(Begin(Endpoint::WriteLock::kNow));
  ASSERT_TRUE(txn_->Commit().ok());
  EXPECT_EQ(DuetInsert("E", "After").code(), StatusCode::kFailedPrecondition)
      << "an ended transaction writes nothing";
}

INSTANTIATE_TEST_SUITE_P(Endpoints, EndpointConformance, testing::ValuesIn(Harnesses()),
                         [](const testing::TestParamInfo<HarnessFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace duet::conformance
