// The PostgreSQL endpoint's RowIds (runtime/endpoint/postgres/pg_row_key.h):
// texts in, the same texts out, and no RowId of another shape accepted.
#include "runtime/endpoint/postgres/pg_row_key.h"

#include <gtest/gtest.h>

namespace duet::pg {
namespace {

using Texts = std::vector<std::string>;

TEST(PgRowKey, ASingleColumnKeyIsItsText) {
  EXPECT_EQ(EncodeRowId({"42"}), "42");
  EXPECT_EQ(EncodeRowId({"[\"not json\""}), "[\"not json\"");
  auto texts = DecodeRowId(1, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  ASSERT_TRUE(texts.ok());
  EXPECT_EQ(*texts, Texts{"6f9619ff-8b86-d011-b42d-00c04fc964ff"});
}

TEST(PgRowKey, ACompositeKeyRoundTripsThroughAJsonArray) {
  for (const Texts& texts : {Texts{"1", "2"}, Texts{"a\"b", "", "\\ é \n"}}) {
    std::string id = EncodeRowId(texts);
    auto back = DecodeRowId(texts.size(), id);
    ASSERT_TRUE(back.ok()) << id;
    EXPECT_EQ(*back, texts) << id;
  }
  EXPECT_EQ(EncodeRowId({"1", "2"}), R"(["1","2"])");
}

TEST(PgRowKey, ARowIdOfAnotherShapeIsInvalid) {
  for (std::string_view id : {"", "1", "[1,2]", R"(["1"])", R"(["1","2","3"])", "{\"a\":1}",
                              R"(["1",null])", "[\"1\",\"2\""}) {
    auto texts = DecodeRowId(2, id);
    ASSERT_FALSE(texts.ok()) << id;
    EXPECT_EQ(texts.status().code(), StatusCode::kInvalidArgument) << id;
  }
}

}  // namespace
}  // namespace duet::pg
