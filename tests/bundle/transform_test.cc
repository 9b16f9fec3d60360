// `duet transform` end to end on examples/minimal's bundle: one output line
// per non-blank input line (the target row, {"filtered": true} or an error
// with its kind), row numbers counting every line, a summary on stderr, and
// exit 0 (all rows fine), 1 (some rows failed) or 2 (usage, a bundle that
// cannot be used). Output lines are compared exactly: keys in the order
// nlohmann::json dumps them (sorted), decimals as strings.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "duet/abi.h"
#include "tests/bundle/test_env.h"

namespace duet::bundle_test {
namespace {

using nlohmann::json;

constexpr std::string_view kMinimal = "examples/minimal";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// The error line duet prints for a line that is not JSON: the parser's own
// message, so the test does not depend on the wording of one nlohmann
// version.
std::string BadJsonLine(size_t row, const std::string& text) {
  try {
    json parsed = json::parse(text);
    (void)parsed;
  } catch (const json::parse_error& e) {
    return json{
        {"row", row}, {"error", std::string("not valid JSON: ") + e.what()}, {"kind", "bad_json"}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
  }
  ADD_FAILURE() << "'" << text << "' is valid JSON";
  return "";
}

class TransformTest : public ProcessTest {
 protected:
  void SetUp() override {
    ProcessTest::SetUp();
    if (HasFatalFailure()) return;
    bundle_ = CompileWithDuetc({std::string(kMinimal)}, "minimal.duetb");
  }

  RunResult Transform(std::string_view from, std::string_view rows,
                      const std::string& map = "customers") {
    return Duet(
        {"transform", "--bundle", bundle_.string(), "--map", map, "--from", std::string(from)},
        rows);
  }

  fs::path bundle_;
};

TEST_F(TransformTest, EveryKindOfRowFromFo) {
  const std::string bad_json = "{not json";
  std::vector<std::string> input = {
      // 1: written
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-1", "ORGANIZATIONNAME": " Contoso ",)"
      R"( "PARTYTYPE": "Organization", "ONHOLDSTATUS": "no", "CREDITLIMIT": "1500.50", "unknown key": 1})",
      // 2: filtered (not an organization)
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "P-1", "PARTYTYPE": "Person"})",
      // 3: blank
      "",
      // 4: not JSON
      bad_json,
      // 5: only spaces and a tab
      "  \t ",
      // 6: wrong type for a decimal column
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-2", "PARTYTYPE": "Organization", "CREDITLIMIT": true})",
      // 7: no value-map entry and no '*'
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-3", "PARTYTYPE": "Organization", "ONHOLDSTATUS": "maybe"})",
      // 8: too long for its input column's string(4): bad source data is refused, not cut
      R"({"DATAAREAID": "usmf1", "CUSTOMERACCOUNT": "C-4", "PARTYTYPE": "Organization"})",
      // 9: JSON, but not an object
      R"([1, 2])",
      // 10: a decimal as a JSON number; nulls written out
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-5", "PARTYTYPE": "Organization", "CREDITLIMIT": 99.5,)"
      R"( "ONHOLDSTATUS": null})",
  };
  RunResult r = Transform("fo", Joined(input));
  EXPECT_TRUE(r.exited) << Show(r);
  EXPECT_EQ(r.exit_code, kExitRowErrors) << Show(r);
  std::vector<std::string> expected = {
      R"({"accountnumber":"C-1","creditlimit":"1500.5000","customertypecode":3,"description":null,)"
      R"("msdyn_company.cdm_companycode":"usmf","msdyn_onholdstatus":806380000,"msdyn_searchname":"CONTOSO",)"
      R"("name":" Contoso "})",
      R"({"filtered":true,"row":2})",
      BadJsonLine(4, bad_json),
      R"({"error":"column 'CREDITLIMIT' expects a decimal number or a string of digits, got true",)"
      R"("kind":"bad_input","row":6})",
      R"j({"error":"msdyn_onholdstatus: no value-map entry matches the value (3 values listed, no '*' default)",)j"
      R"("kind":"no_value_mapping","row":7})",
      R"({"error":"column 'DATAAREAID' expects string(4) (at most 4 characters), got \"usmf1\"",)"
      R"("kind":"bad_input","row":8})",
      R"({"error":"a row must be a JSON object","kind":"bad_json","row":9})",
      R"({"accountnumber":"C-5","creditlimit":"99.5000","customertypecode":3,"description":null,)"
      R"("msdyn_company.cdm_companycode":"usmf","msdyn_onholdstatus":null,"msdyn_searchname":null,"name":null})",
  };
  EXPECT_EQ(Lines(r.out), expected) << Show(r);
  EXPECT_EQ(r.err, "duet: 8 rows: 2 written, 1 filtered, 5 errors\n") << Show(r);
}

TEST_F(TransformTest, EveryKindOfRowFromCe) {
  std::string long_name(101, 'N');
  std::vector<std::string> input = {
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-1", "customertypecode": 3,)"
      R"( "msdyn_onholdstatus": 806380001, "name": "Fabrikam", "creditlimit": "12345678901234.5678"})",
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-2", "customertypecode": 3, "name": ")" +
          long_name + R"("})",
      // the written lookup's key is missing, and DATAAREAID is not null
      R"({"accountnumber": "C-3", "customertypecode": 3})",
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-4", "customertypecode": 4})",
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-5", "customertypecode": 3.0})",
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-6", "customertypecode": "3"})",
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-7", "customertypecode": 3,)"
      R"( "creditlimit": "123456789012345678901"})",
      R"({"msdyn_company.cdm_companycode": "usmf", "accountnumber": "C-8", "customertypecode": 3,)"
      R"( "msdyn_onholdstatus": 42})",
  };
  RunResult r = Transform("ce", Joined(input));
  EXPECT_EQ(r.exit_code, kExitRowErrors) << Show(r);
  std::vector<std::string> expected = {
      R"({"CREDITLIMIT":"12345678901234.567800","CUSTOMERACCOUNT":"C-1","DATAAREAID":"usmf",)"
      R"("ONHOLDSTATUS":"invoice","ORGANIZATIONNAME":"Fabrikam","PARTYTYPE":"Organization","SALESMEMO":null})",
      R"j({"error":"ORGANIZATIONNAME: value is longer than column 'ORGANIZATIONNAME' allows (100 characters)",)j"
      R"("kind":"string_too_long","row":2})",
      R"({"error":"DATAAREAID: column 'DATAAREAID' is not null, but the mapped value is null",)"
      R"("kind":"null_in_not_null","row":3})",
      R"({"filtered":true,"row":4})",
      R"({"error":"column 'customertypecode' expects an integer, got 3.0","kind":"bad_input","row":5})",
      R"({"error":"column 'customertypecode' expects an integer, got \"3\"","kind":"bad_input","row":6})",
      R"({"error":"column 'creditlimit' expects decimal(19, 4), got \"123456789012345678901\"",)"
      R"("kind":"bad_input","row":7})",
      R"j({"error":"ONHOLDSTATUS: no value-map entry matches the value (3 values listed, no '*' default)",)j"
      R"("kind":"no_value_mapping","row":8})",
  };
  EXPECT_EQ(Lines(r.out), expected) << Show(r);
  EXPECT_EQ(r.err, "duet: 8 rows: 1 written, 1 filtered, 6 errors\n") << Show(r);
}

TEST_F(TransformTest, ExitsZeroWhenNoRowFails) {
  std::string rows =
      "\n"
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "P-1", "PARTYTYPE": "Person"})"
      "\r\n"  // a Windows line end
      "\r\n"  // a blank Windows line
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization"})";  // no
                                                                                           // final
                                                                                           // newline
  RunResult r = Transform("fo", rows);
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  std::vector<std::string> expected = {
      R"({"filtered":true,"row":2})",
      R"({"accountnumber":"C-1","creditlimit":null,"customertypecode":3,"description":null,)"
      R"("msdyn_company.cdm_companycode":"usmf","msdyn_onholdstatus":null,"msdyn_searchname":null,"name":null})",
  };
  EXPECT_EQ(Lines(r.out), expected) << Show(r);
  EXPECT_EQ(r.err, "duet: 2 rows: 1 written, 1 filtered, 0 errors\n") << Show(r);

  RunResult empty = Transform("fo", "");
  EXPECT_EQ(empty.exit_code, kExitClean) << Show(empty);
  EXPECT_EQ(empty.out, "");
  EXPECT_EQ(empty.err, "duet: 0 rows: 0 written, 0 filtered, 0 errors\n") << Show(empty);

  RunResult blank = Transform("fo", "\n\n  \n\t\n");
  EXPECT_EQ(blank.exit_code, kExitClean) << Show(blank);
  EXPECT_EQ(blank.out, "");
  EXPECT_EQ(blank.err, "duet: 0 rows: 0 written, 0 filtered, 0 errors\n") << Show(blank);
}

TEST_F(TransformTest, ExitsOneWhenAnyRowFails) {
  // An empty object is filtered (PARTYTYPE is null, so the filter is null);
  // `null` is not an object.
  RunResult r = Transform("fo", "{}\nnull\n");
  EXPECT_EQ(r.exit_code, kExitRowErrors) << Show(r);
  std::vector<std::string> expected = {
      R"({"filtered":true,"row":1})",
      R"({"error":"a row must be a JSON object","kind":"bad_json","row":2})",
  };
  EXPECT_EQ(Lines(r.out), expected) << Show(r);
  EXPECT_EQ(r.err, "duet: 2 rows: 0 written, 1 filtered, 1 errors\n") << Show(r);
}

// Bytes that are not UTF-8 fail their row; the output stays JSON.
TEST_F(TransformTest, InvalidUtf8FailsTheRowAndTheOutputStaysJson) {
  std::string rows = "{\"DATAAREAID\": \"us\xff\xfe\", \"PARTYTYPE\": \"Organization\"}\n";
  RunResult r = Transform("fo", rows);
  EXPECT_EQ(r.exit_code, kExitRowErrors) << Show(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << Show(r);
  json line = json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << "not JSON: " << lines[0];
  EXPECT_EQ(line["kind"], "bad_json") << lines[0];
  EXPECT_EQ(line["row"], 1) << lines[0];
}

TEST_F(TransformTest, UnknownMapOrSystemNamesTheAlternatives) {
  RunResult map = Transform("fo", "", "custommers");
  EXPECT_EQ(map.exit_code, kExitUsage) << Show(map);
  EXPECT_EQ(map.out, "");
  EXPECT_EQ(map.err, "duet: the bundle has no map 'custommers' (it has: customers)\n") << Show(map);

  RunResult from = Transform("crm", "");
  EXPECT_EQ(from.exit_code, kExitUsage) << Show(from);
  EXPECT_EQ(from.out, "");
  EXPECT_EQ(
      from.err,
      "duet: map 'customers' does not flow from 'crm' (fo.CustCustomerV3Entity <-> ce.account)\n")
      << Show(from);

  // Map names are case-sensitive, like everything in map files.
  RunResult upper = Transform("fo", "", "Customers");
  EXPECT_EQ(upper.exit_code, kExitUsage) << Show(upper);
}

TEST_F(TransformTest, AnUnknownMapNamesEveryMapOfTheBundle) {
  fs::path stdlib = CompileWithDuetc({"stdlib-maps"}, "stdlib.duetb");
  RunResult inspect = Duetc({"inspect", "--json", stdlib.string()});
  ASSERT_EQ(inspect.exit_code, kExitClean) << Show(inspect);
  json manifest = json::parse(inspect.out);
  std::string names;
  for (const json& m : manifest["maps"])
    names += (names.empty() ? "" : ", ") + m["name"].get<std::string>();
  ASSERT_NE(names.find(", "), std::string::npos) << "stdlib-maps has several maps";
  RunResult r = Duet({"transform", "--bundle", stdlib.string(), "--map", "nope", "--from", "fo"});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_EQ(r.err, "duet: the bundle has no map 'nope' (it has: " + names + ")\n") << Show(r);
}

TEST_F(TransformTest, UsageErrorsExitTwoAndReadNoRows) {
  const std::string row =
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization"})";
  const std::vector<std::vector<std::string>> cases = {
      {"transform", "--bundle", bundle_.string(), "--map", "customers"},
      {"transform", "--bundle", bundle_.string(), "--from", "fo"},
      {"transform", "--map", "customers", "--from", "fo"},
      {"transform", "--bundle", bundle_.string(), "--map", "customers", "--from", "fo",
       "--frobnicate"},
      {"transform", "--bundle", (dir_ / "missing.duetb").string(), "--map", "customers", "--from",
       "fo"},
      {"transform", "--bundle", dir_.string(), "--map", "customers", "--from", "fo"},
      {"transform", "--bundle", bundle_.string(), "--map", "customers", "--from", "fo", "--trust",
       (dir_ / "missing.pub").string()},
      {"transfrom", "--bundle", bundle_.string(), "--map", "customers", "--from", "fo"},
      {},
  };
  for (const std::vector<std::string>& args : cases) {
    RunResult r = Duet(args, row + "\n");
    std::string command;
    for (const std::string& a : args) command += a + " ";
    EXPECT_TRUE(r.exited) << command << "\n" << Show(r);
    EXPECT_EQ(r.exit_code, kExitUsage) << command << "\n" << Show(r);
    EXPECT_EQ(r.out, "") << command << "\n" << Show(r);
    EXPECT_NE(r.err, "") << command;
  }
  RunResult missing = Duet({"transform", "--bundle", (dir_ / "missing.duetb").string(), "--map",
                            "customers", "--from", "fo"});
  EXPECT_EQ(missing.err, "duet: cannot open bundle '" + (dir_ / "missing.duetb").string() + "'\n")
      << Show(missing);

  RunResult help = Duet({"transform", "--help"});
  EXPECT_EQ(help.exit_code, kExitClean) << Show(help);
  EXPECT_NE(help.out.find("--cache-dir"), std::string::npos) << Show(help);
}

// Source values the input slot cannot hold exactly are reported, never
// altered: a string longer than its string(n) (counted in characters, not
// bytes) and a decimal with digits beyond the slot's scale. Trailing zeros
// beyond the scale change nothing and are accepted.
TEST_F(TransformTest, SourceValuesThatDoNotFitTheirInputSlotAreBadInput) {
  std::vector<std::string> input = {
      // 1: exactly 4 characters, 8 bytes: fits string(4)
      R"({"DATAAREAID": "äöüß", "CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization"})",
      // 2: 5 characters
      R"({"DATAAREAID": "usmf1", "CUSTOMERACCOUNT": "C-2", "PARTYTYPE": "Organization"})",
      // 3: 21 characters into CUSTOMERACCOUNT string(20)
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "ABCDEFGHIJKLMNOPQRSTU", "PARTYTYPE": "Organization"})",
      // 4: 6 decimals fit decimal(32, 6)
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-4", "PARTYTYPE": "Organization", "CREDITLIMIT": "1.123456"})",
      // 5: a 7th decimal would be rounded away
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-5", "PARTYTYPE": "Organization", "CREDITLIMIT": "1.1234565"})",
      // 6: trailing zeros beyond the scale lose nothing
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-6", "PARTYTYPE": "Organization", "CREDITLIMIT": "-2.50000000"})",
      // 7: a JSON number with too many decimals
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-7", "PARTYTYPE": "Organization", "CREDITLIMIT": 0.0000001})",
  };
  RunResult r = Transform("fo", Joined(input));
  EXPECT_EQ(r.exit_code, kExitRowErrors) << Show(r);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), input.size()) << Show(r);
  EXPECT_NE(lines[0].find(R"("msdyn_company.cdm_companycode":"äöüß")"), std::string::npos)
      << lines[0];
  EXPECT_EQ(
      lines[1],
      R"({"error":"column 'DATAAREAID' expects string(4) (at most 4 characters), got \"usmf1\"",)"
      R"("kind":"bad_input","row":2})");
  EXPECT_EQ(lines[2],
            R"({"error":"column 'CUSTOMERACCOUNT' expects string(20) (at most 20 characters),)"
            R"( got \"ABCDEFGHIJKLMNOPQRSTU\"","kind":"bad_input","row":3})");
  EXPECT_NE(lines[3].find(R"("creditlimit":"1.1235")"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4],
            R"({"error":"column 'CREDITLIMIT' expects decimal(32, 6) (at most 6 digits after the)"
            R"( point), got \"1.1234565\"","kind":"bad_input","row":5})");
  EXPECT_NE(lines[5].find(R"("creditlimit":"-2.5000")"), std::string::npos) << lines[5];
  EXPECT_NE(lines[6].find(R"("kind":"bad_input","row":7)"), std::string::npos) << lines[6];
  EXPECT_EQ(r.err, "duet: 7 rows: 3 written, 0 filtered, 4 errors\n") << Show(r);
}

// A bundle file that is a valid container but whose manifest the runtime
// cannot use is refused with exit 2 too.
TEST_F(TransformTest, ABundleWithAnUnusableManifestIsRefused) {
  bundle::Contents contents = BuildContents({std::string(kMinimal)});
  json manifest = json::parse(contents.manifest);
  manifest["abi_version"] = 99;
  contents.manifest = manifest.dump();
  fs::path abi = Write("abi99.duetb", bundle::Serialize(contents));
  RunResult r = Duet({"transform", "--bundle", abi.string(), "--map", "customers", "--from", "fo"},
                     R"({"PARTYTYPE": "Organization"})");
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("ABI version 99"), std::string::npos) << Show(r);

  manifest["abi_version"] = DUET_ABI_VERSION;
  manifest["format"] = 1;
  contents.manifest = manifest.dump();
  fs::path old_format = Write("format1.duetb", bundle::Serialize(contents));
  RunResult f =
      Duet({"transform", "--bundle", old_format.string(), "--map", "customers", "--from", "fo"},
           R"({"PARTYTYPE": "Organization"})");
  EXPECT_EQ(f.exit_code, kExitUsage) << Show(f);
  EXPECT_EQ(f.out, "");
  EXPECT_NE(f.err.find("the bundle manifest has format 1; this duet reads format 3"),
            std::string::npos)
      << Show(f);

  contents.manifest = "{\"format\": 2";
  fs::path broken = Write("broken-manifest.duetb", bundle::Serialize(contents));
  RunResult b =
      Duet({"transform", "--bundle", broken.string(), "--map", "customers", "--from", "fo"},
           R"({"PARTYTYPE": "Organization"})");
  EXPECT_TRUE(b.exited) << Show(b);
  EXPECT_EQ(b.exit_code, kExitUsage) << Show(b);
  EXPECT_EQ(b.out, "");
}

// Issue 13, item 14: an unsigned bundle whose manifest was edited and hashed
// again no longer describes the rows its code reads and writes. Loading
// refuses it (exit 2) before any code runs, instead of calling a transform
// with rows of another shape (which crashed duet with a segfault).
TEST_F(TransformTest, ABundleWhoseManifestNoLongerMatchesItsCodeIsRefused) {
  const bundle::Contents original = BuildContents({std::string(kMinimal)});
  const json manifest = json::parse(original.manifest);
  auto edited = [&](const std::function<void(json&)>& edit) {
    json t = manifest;
    edit(t["maps"][0]["transforms"][0]);
    return t;
  };
  const std::pair<std::string, json> cases[] = {
      {"an input removed", edited([](json& t) { t["inputs"].erase(t["inputs"].size() - 1); })},
      {"an input's type changed", edited([](json& t) { t["inputs"][0]["type"] = "int"; })},
      {"an output added", edited([](json& t) { t["outputs"].push_back(t["outputs"][0]); })},
      {"an output's check changed",
       edited([](json& t) { t["outputs"][0]["not_null"] = !t["outputs"][0]["not_null"]; })},
      {"another symbol", edited([](json& t) { t["symbol"] = "duet_rt_fail"; })},
  };
  for (const auto& [what, changed] : cases) {
    bundle::Contents contents = original;
    contents.manifest = changed.dump();
    fs::path path = Write("edited.duetb", bundle::Serialize(contents));
    std::string from = manifest["maps"][0]["transforms"][0]["from"];
    RunResult r =
        Duet({"transform", "--bundle", path.string(), "--map", "customers", "--from", from},
             R"({"PARTYTYPE": "Organization"})");
    EXPECT_TRUE(r.exited) << what << "\n" << Show(r);
    EXPECT_EQ(r.exit_code, kExitUsage) << what << "\n" << Show(r);
    EXPECT_EQ(r.out, "") << what;
    EXPECT_NE(r.err.find("refusing bundle"), std::string::npos) << what << "\n" << Show(r);
    EXPECT_NE(r.err.find(manifest["maps"][0]["transforms"][0]["symbol"].get<std::string>() ==
                                 changed["maps"][0]["transforms"][0]["symbol"].get<std::string>()
                             ? "does not match the code"
                             : "has no layout"),
              std::string::npos)
        << what << "\n"
        << Show(r);
  }
}

}  // namespace
}  // namespace duet::bundle_test
