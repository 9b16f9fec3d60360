// The pure parts of capture by logical decoding, on bytes captured from a
// real PostgreSQL 15 server (pg_logical_slot_peek_binary_changes with
// proto_version 1): pgoutput messages (pg_output.h), the changes made from
// them (change_decoder.h), the replication protocol's envelope
// (replication_stream.h), positions and names (logical_capture.h). No
// server.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/endpoint/postgres/change_decoder.h"
#include "runtime/endpoint/postgres/logical_capture.h"
#include "runtime/endpoint/postgres/pg_output.h"
#include "runtime/pg/replication_stream.h"

namespace duet::pg {
namespace {

using endpoint::ChangeOp;

std::string Bytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The server's messages for, on tables customer (code text PRIMARY KEY,
// name text, credit numeric(19,4)), line (order_no, line_no PRIMARY KEY,
// qty) and whole (code PRIMARY KEY, name; REPLICA IDENTITY FULL):
//   INSERT INTO customer VALUES ('A', 'Ann', 1.5);
//   UPDATE customer SET name = NULL WHERE code = 'A';
//   UPDATE customer SET code = 'B' WHERE code = 'A';
//   BEGIN; INSERT INTO line VALUES (1, 2, 3); DELETE FROM customer; COMMIT;
//   INSERT INTO whole VALUES ('W', 'x'); UPDATE whole SET code = 'V';
//   DELETE FROM whole;
//   TRUNCATE line;
// and, in a session set up with replication origin duet_fo_x_customers,
//   INSERT INTO customer VALUES ('D', 'Duet', NULL);
const char* const kCaptured[] = {
    "42000000000192f028000304ec9400432b000002df",
    "52000040027075626c696300637573746f6d65720064000301636f64650000000019ffffffff006e616d6500000000"
    "19ffffffff0063726564697400000006a400130008",
    "49000040024e00037400000001417400000003416e6e7400000006312e35303030",
    "4300000000000192f028000000000192f058000304ec9400432b",
    "42000000000192f0a8000304ec9400473e000002e0",
    "55000040024e00037400000001416e7400000006312e35303030",
    "4300000000000192f0a8000000000192f0d8000304ec9400473e",
    "42000000000192f170000304ec9400488b000002e1",
    "55000040024b00037400000001416e6e4e00037400000001426e7400000006312e35303030",
    "4300000000000192f170000000000192f1a0000304ec9400488b",
    "42000000000192f2c8000304ec94004b6b000002e2",
    "52000040097075626c6963006c696e6500640003016f726465725f6e6f0000000017ffffffff016c696e655f6e6f00"
    "00000017ffffffff007174790000000017ffffffff",
    "49000040094e0003740000000131740000000132740000000133",
    "44000040024b00037400000001426e6e",
    "4300000000000192f2c8000000000192f2f8000304ec94004b6b",
    "42000000000192f3d8000304ec94004c33000002e3",
    "520000400e7075626c69630077686f6c650066000201636f64650000000019ffffffff016e616d650000000019ffff"
    "ffff",
    "490000400e4e0002740000000157740000000178",
    "4300000000000192f3d8000000000192f408000304ec94004c33",
    "42000000000192f498000304ec94004c9f000002e4",
    "550000400e4f00027400000001577400000001784e0002740000000156740000000178",
    "4300000000000192f498000000000192f4c8000304ec94004c9f",
    "42000000000192f508000304ec94004ce1000002e5",
    "440000400e4f0002740000000156740000000178",
    "4300000000000192f508000000000192f538000304ec94004ce1",
    "42000000000192fb08000304ec94004e8c000002e6",
    "52000040097075626c6963006c696e6500640003016f726465725f6e6f0000000017ffffffff016c696e655f6e6f00"
    "00000017ffffffff007174790000000017ffffffff",
    "54000000010000004009",
    "4300000000000192fb08000000000192fbd8000304ec94004e8c",
    "42000000000192fc600000000000000000000002e7",
    "4f0000000000000000647565745f666f5f785f637573746f6d65727300",
    "49000040024e00037400000001447400000004447565746e",
    "4300000000000192fc60000000000192fca80000000000000000",
};

std::vector<CapturedTable> Tables() {
  return {{"fo.customer", "public", "customer", {"code"}},
          {"fo.line", "public", "line", {"order_no", "line_no"}},
          {"fo.whole", "public", "whole", {"code"}}};
}

TEST(PgOutputTest, ParsesEveryMessageTheServerSent) {
  for (const char* hex : kCaptured) {
    Expected<pgoutput::Message> m = pgoutput::Parse(Bytes(hex));
    EXPECT_TRUE(m.ok()) << hex << ": " << m.status().ToString();
  }
  Expected<pgoutput::Message> relation = pgoutput::Parse(Bytes(kCaptured[1]));
  ASSERT_TRUE(relation.ok());
  const auto& r = std::get<pgoutput::Relation>(*relation);
  EXPECT_EQ(r.schema, "public");
  EXPECT_EQ(r.name, "customer");
  EXPECT_EQ(r.replica_identity, 'd');
  ASSERT_EQ(r.columns.size(), 3u);
  EXPECT_EQ(r.columns[0].flags, 1) << "the key";
  EXPECT_EQ(r.columns[2].name, "credit");
  EXPECT_EQ(r.columns[2].modifier, (19 << 16 | 4) + 4) << "numeric(19,4)";
  Expected<pgoutput::Message> insert = pgoutput::Parse(Bytes(kCaptured[2]));
  ASSERT_TRUE(insert.ok());
  const auto& row = std::get<pgoutput::Insert>(*insert).row;
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[2].data, "1.5000") << "numeric's own text";
  Expected<pgoutput::Message> truncate = pgoutput::Parse(Bytes(kCaptured[27]));
  ASSERT_TRUE(truncate.ok());
  EXPECT_EQ(std::get<pgoutput::Truncate>(*truncate).relations.size(), 1u);
  Expected<pgoutput::Message> origin = pgoutput::Parse(Bytes(kCaptured[30]));
  ASSERT_TRUE(origin.ok());
  EXPECT_EQ(std::get<pgoutput::Origin>(*origin).name, "duet_fo_x_customers");
}

TEST(PgOutputTest, EveryCutOrLengthenedMessageIsRefusedNotACrash) {
  for (const char* hex : kCaptured) {
    std::string bytes = Bytes(hex);
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_EQ(pgoutput::Parse(bytes.substr(0, n)).status().code(), StatusCode::kInvalidArgument)
          << hex << " cut to " << n;
    }
    EXPECT_EQ(pgoutput::Parse(bytes + "x").status().code(), StatusCode::kInvalidArgument) << hex;
  }
  // A count or length beyond the message.
  EXPECT_FALSE(pgoutput::Parse(Bytes("49000040024e7fff74")).ok());
  EXPECT_FALSE(pgoutput::Parse(Bytes("49000040024e000174ffffffff41")).ok());
  EXPECT_FALSE(pgoutput::Parse(Bytes("54ffffffff00")).ok());
  EXPECT_FALSE(pgoutput::Parse(Bytes("5a")).ok()) << "an unknown type";
}

TEST(ChangeDecoderTest, MakesTheChangesOfEachTransaction) {
  ChangeDecoder decoder(Tables());
  for (const char* hex : kCaptured) {
    Status s = decoder.Feed(Bytes(hex));
    ASSERT_TRUE(s.ok()) << hex << ": " << s.ToString();
  }
  EXPECT_FALSE(decoder.in_transaction());
  std::vector<DecodedTransaction> txns = decoder.TakeCommitted();
  ASSERT_EQ(txns.size(), 9u);
  using Seen = std::tuple<int, ChangeOp, std::string, uint32_t>;
  std::vector<std::vector<Seen>> want = {
      {{0, ChangeOp::kInsert, "A", 0}},
      {{0, ChangeOp::kUpdate, "A", 0}},
      {{0, ChangeOp::kDelete, "A", 0}, {0, ChangeOp::kInsert, "B", 1}},
      {{1, ChangeOp::kInsert, "[\"1\",\"2\"]", 0}, {0, ChangeOp::kDelete, "B", 2}},
      {{2, ChangeOp::kInsert, "W", 0}},
      {{2, ChangeOp::kDelete, "W", 0}, {2, ChangeOp::kInsert, "V", 1}},
      {{2, ChangeOp::kDelete, "V", 0}},
      {},  // TRUNCATE names no rows
      {{0, ChangeOp::kInsert, "D", 0}},
  };
  for (size_t t = 0; t < txns.size(); ++t) {
    std::vector<Seen> seen;
    for (const DecodedChange& c : txns[t].changes)
      seen.emplace_back(c.table, c.op, c.row_id, c.index);
    EXPECT_EQ(seen, want[t]) << "transaction " << t;
    if (t > 0) {
      EXPECT_GT(txns[t].commit_lsn, txns[t - 1].commit_lsn);
    }
    EXPECT_GT(txns[t].end_lsn, txns[t].commit_lsn);
  }
  EXPECT_EQ(txns[0].commit_lsn, 0x192f028u);
  EXPECT_GT(txns[0].at, 1.7e9) << "seconds since the Unix epoch";
  EXPECT_EQ(txns[8].origin_name, "duet_fo_x_customers");
  EXPECT_EQ(txns[8].at, 0) << "an origin's transaction carries no commit time";
  EXPECT_EQ(txns[0].origin_name, "");
}

TEST(ChangeDecoderTest, RefusesMessagesOutOfPlace) {
  ChangeDecoder decoder(Tables());
  EXPECT_EQ(decoder.Feed(Bytes(kCaptured[2])).code(), StatusCode::kInvalidArgument)
      << "an insert outside a transaction";
  ASSERT_TRUE(decoder.Feed(Bytes(kCaptured[0])).ok());
  EXPECT_EQ(decoder.Feed(Bytes(kCaptured[2])).code(), StatusCode::kInvalidArgument)
      << "a change of a relation not yet described";
  EXPECT_EQ(decoder.Feed(Bytes(kCaptured[0])).code(), StatusCode::kInvalidArgument)
      << "a begin inside a transaction";
  EXPECT_EQ(decoder.Feed(Bytes(kCaptured[6])).code(), StatusCode::kInvalidArgument)
      << "another transaction's commit";
  decoder.Reset();
  EXPECT_FALSE(decoder.in_transaction());
  // A captured table whose key column the stream lacks.
  ChangeDecoder other({{"fo.customer", "public", "customer", {"nope"}}});
  ASSERT_TRUE(other.Feed(Bytes(kCaptured[0])).ok());
  ASSERT_TRUE(other.Feed(Bytes(kCaptured[1])).ok());
  EXPECT_EQ(other.Feed(Bytes(kCaptured[2])).code(), StatusCode::kFailedPrecondition);
}

TEST(ReplicationStreamTest, ParsesDataAndKeepalivesAndWritesStatusUpdates) {
  std::string w = "w" + Bytes("000000000192f028000000000192f0300000000000000001") + "abc";
  Expected<CopyMessage> data = ParseCopyData(w);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(std::get<XLogData>(*data).wal_start, 0x192f028u);
  EXPECT_EQ(std::get<XLogData>(*data).data, "abc");
  Expected<CopyMessage> k = ParseCopyData("k" + Bytes("000000000192f0300000000000000002") + "\x01");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(std::get<Keepalive>(*k).wal_end, 0x192f030u);
  EXPECT_TRUE(std::get<Keepalive>(*k).reply_requested);
  for (size_t n = 0; n < 25; ++n) EXPECT_FALSE(ParseCopyData(w.substr(0, n)).ok()) << n;
  EXPECT_FALSE(ParseCopyData("k" + std::string(17, '\0') + "\x02").ok());
  EXPECT_FALSE(ParseCopyData("x").ok());
  EXPECT_EQ(
      StandbyStatusUpdate(1, 2, 3, 4, true),
      "r" + Bytes("0000000000000001000000000000000200000000000000030000000000000004") + "\x01");
  EXPECT_EQ(LsnText(0x16B374D848u), "16/B374D848");
  EXPECT_EQ(*ParseLsn("16/B374D848"), 0x16B374D848u);
  EXPECT_FALSE(ParseLsn("16B374D848").ok());
  EXPECT_FALSE(ParseLsn("1/123456789").ok());
  EXPECT_EQ(UnixSecondsOfPgMicros(PgEpochMicros(1'700'000'000'000'000)), 1.7e9);
}

TEST(LogicalCaptureTest, PositionsOrderAsTheStreamAndRefuseOtherBytes) {
  endpoint::Position a = EncodePosition({0x192f028, 0});
  endpoint::Position b = EncodePosition({0x192f028, 1});
  endpoint::Position c = EncodePosition({0x1000000000, 0});
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.bytes().size(), 12u);
  Expected<std::optional<StreamPoint>> back = DecodePosition(b);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->commit_lsn, 0x192f028u);
  EXPECT_EQ((*back)->index, 1u);
  EXPECT_FALSE(DecodePosition(endpoint::Position())->has_value());
  for (const endpoint::Position& bad :
       {endpoint::Position::FromBytes(b.bytes().substr(1)),
        endpoint::Position::FromBytes(b.bytes() + "x"),
        endpoint::Position::FromBytes(std::string(12, '\0')), endpoint::Position::AfterAll()}) {
    EXPECT_EQ(DecodePosition(bad).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(LogicalCaptureTest, NamesDifferByDatabaseSchemaAndSystem) {
  CaptureNames n = NamesFor("erp", "sales", "fo");
  EXPECT_EQ(n.prefix.substr(0, 8), "duet_fo_");
  EXPECT_EQ(n.prefix.size(), 8u + 12u);
  EXPECT_EQ(n.table, n.prefix + "_installed");
  EXPECT_EQ(n.schema, "sales");
  EXPECT_EQ(NamesFor("erp", "sales", "fo").prefix, n.prefix) << "stable";
  EXPECT_NE(NamesFor("crm", "sales", "fo").prefix, n.prefix);
  EXPECT_NE(NamesFor("erp", "public", "fo").prefix, n.prefix);
  EXPECT_NE(NamesFor("er", "psales", "fo").prefix, n.prefix) << "parts are separated";
  EXPECT_EQ(NamesFor("erp", "sales", "Fo-X").prefix.substr(0, 10), "duet_fo_x_");
  EXPECT_LE(NamesFor("erp", "sales", std::string(100, 'a')).table.size(), 63u);
}

}  // namespace
}  // namespace duet::pg
