// Signing and trust: `duetc keygen`, `duetc compile --sign`, and `duetc
// inspect --trust` / `duet transform --trust` accepting exactly the bundles
// signed by the trusted key; malformed key files are refused with a message
// that says what a key file looks like.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "runtime/bundle/bundle_file.h"
#include "tests/bundle/test_env.h"

namespace duet::bundle_test {
namespace {

constexpr std::string_view kMinimal = "examples/minimal";
constexpr std::string_view kGoodRow =
    R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization"})"
    "\n";

std::string KeyHex(const bundle::PublicKey& key) {
  return bundle::Hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

// ---- in-process ----

TEST(Keys, TextFormsRoundTrip) {
  bundle::KeyPair pair = bundle::GenerateKeyPair();
  std::string pub = bundle::FormatPublicKey(pair.public_key);
  std::string sec = bundle::FormatSecretKey(pair.secret_key);
  EXPECT_EQ(pub, "duet-ed25519-public " + KeyHex(pair.public_key) + "\n");
  EXPECT_TRUE(sec.starts_with("duet-ed25519-secret "));
  EXPECT_EQ(sec.size(), std::string_view("duet-ed25519-secret ").size() + 128 + 1);
  Expected<bundle::PublicKey> p = bundle::ParsePublicKey(pub);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, pair.public_key);
  Expected<bundle::SecretKey> s = bundle::ParseSecretKey(sec);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s, pair.secret_key);
  // Windows line ends and a missing final newline are fine.
  std::string crlf = pub.substr(0, pub.size() - 1) + "\r\n";
  EXPECT_TRUE(bundle::ParsePublicKey(crlf).ok());
  EXPECT_TRUE(bundle::ParsePublicKey(pub.substr(0, pub.size() - 1)).ok());
  EXPECT_NE(bundle::GenerateKeyPair().public_key, pair.public_key);
}

TEST(Keys, MalformedTextIsRefused) {
  bundle::KeyPair pair = bundle::GenerateKeyPair();
  std::string pub = bundle::FormatPublicKey(pair.public_key);
  std::string sec = bundle::FormatSecretKey(pair.secret_key);
  std::string hex = KeyHex(pair.public_key);
  const std::string kNotAKeyFile = "not a key file: expected one line 'duet-ed25519-public <hex>'";
  struct Case {
    std::string name;
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty", "", kNotAKeyFile},
      {"a secret key", sec, kNotAKeyFile},
      {"hex only", hex + "\n", kNotAKeyFile},
      {"one hex digit short", "duet-ed25519-public " + hex.substr(1) + "\n", kNotAKeyFile},
      {"one hex digit long", "duet-ed25519-public " + hex + "0\n", kNotAKeyFile},
      {"two spaces", "duet-ed25519-public  " + hex.substr(1) + "\n",
       "key file holds malformed hex"},
      {"a second line", pub + "duet-ed25519-public " + hex + "\n", kNotAKeyFile},
      {"leading blank line", "\n" + pub, kNotAKeyFile},
      {"label in capitals", "DUET-ED25519-PUBLIC " + hex + "\n", kNotAKeyFile},
      {"not hex", "duet-ed25519-public " + std::string(64, 'g') + "\n",
       "key file holds malformed hex"},
      {"hex with a space inside",
       "duet-ed25519-public " + hex.substr(0, 31) + " " + hex.substr(32) + "\n",
       "key file holds malformed hex"},
  };
  for (const Case& c : cases) {
    Expected<bundle::PublicKey> key = bundle::ParsePublicKey(c.text);
    ASSERT_FALSE(key.ok()) << c.name << " was accepted";
    EXPECT_EQ(key.status().message(), c.message) << c.name;
  }
  EXPECT_FALSE(bundle::ParseSecretKey(pub).ok()) << "a public key is not a secret key";
  EXPECT_FALSE(bundle::ParseSecretKey("duet-ed25519-secret " + hex + "\n").ok())
      << "too short for a secret key";
}

TEST(Signing, OnlyTheTrustedKeyIsAccepted) {
  bundle::Contents contents = BuildContents({std::string(kMinimal)});
  std::string unsigned_bytes = bundle::Serialize(contents);
  bundle::KeyPair ours = bundle::GenerateKeyPair();
  bundle::KeyPair theirs = bundle::GenerateKeyPair();
  Expected<std::string> signed_bytes = bundle::Sign(unsigned_bytes, ours.secret_key);
  ASSERT_TRUE(signed_bytes.ok()) << signed_bytes.status().message();

  Expected<bundle::Verified> trusted =
      bundle::Parse(*signed_bytes, {.trusted_key = ours.public_key});
  ASSERT_TRUE(trusted.ok()) << trusted.status().message();
  EXPECT_EQ(trusted->signed_by, ours.public_key);
  EXPECT_EQ(trusted->digest,
            bundle::Sha256(std::string_view(unsigned_bytes).substr(0, unsigned_bytes.size() - 32)));

  Expected<bundle::Verified> other =
      bundle::Parse(*signed_bytes, {.trusted_key = theirs.public_key});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().message(), "refusing bundle: it is signed by a key that is not trusted");

  Expected<bundle::Verified> unsigned_v =
      bundle::Parse(unsigned_bytes, {.trusted_key = ours.public_key});
  ASSERT_FALSE(unsigned_v.ok());
  EXPECT_EQ(unsigned_v.status().message(),
            "refusing bundle: it is not signed, and only signed bundles are accepted");

  // Without a required key a signature is still verified, and reported.
  Expected<bundle::Verified> open = bundle::Parse(*signed_bytes, {});
  ASSERT_TRUE(open.ok()) << open.status().message();
  EXPECT_EQ(open->signed_by, ours.public_key);
  Expected<bundle::Verified> open_unsigned = bundle::Parse(unsigned_bytes, {});
  ASSERT_TRUE(open_unsigned.ok());
  EXPECT_FALSE(open_unsigned->signed_by.has_value());

  // Our signature with their public key put in the block does not verify,
  // so nobody can claim a signature they did not make.
  std::string forged = *signed_bytes;
  forged.replace(unsigned_bytes.size() + 8, 32,
                 reinterpret_cast<const char*>(theirs.public_key.data()), 32);
  Expected<bundle::Verified> f = bundle::Parse(forged, {.trusted_key = theirs.public_key});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "refusing bundle: its signature does not verify");

  // A signature moved onto another bundle does not verify either.
  std::string other_bundle =
      bundle::Serialize(BuildContents({std::string(kMinimal)}, /*include_object=*/false));
  std::string moved = other_bundle + signed_bytes->substr(unsigned_bytes.size());
  EXPECT_FALSE(bundle::Parse(moved, {}).ok());
}

// ---- the command-line tools ----

class SigningProcess : public ProcessTest {
 protected:
  // `duetc keygen -o dir_/name`; returns the paths of NAME.key and NAME.pub.
  std::pair<fs::path, fs::path> Keygen(const std::string& name) {
    RunResult r = Duetc({"keygen", "-o", (dir_ / name).string()});
    EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
    fs::path key = dir_ / (name + ".key");
    fs::path pub = dir_ / (name + ".pub");
    EXPECT_TRUE(fs::exists(key)) << Show(r);
    EXPECT_TRUE(fs::exists(pub)) << Show(r);
    return {key, pub};
  }
};

TEST_F(SigningProcess, KeygenWritesAKeyPairWithAPrivateSecret) {
  RunResult r = Duetc({"keygen", "-o", (dir_ / "release").string()});
  ASSERT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("release.key (secret"), std::string::npos) << Show(r);
  std::string key_text = ReadAll(dir_ / "release.key");
  std::string pub_text = ReadAll(dir_ / "release.pub");
  Expected<bundle::SecretKey> key = bundle::ParseSecretKey(key_text);
  Expected<bundle::PublicKey> pub = bundle::ParsePublicKey(pub_text);
  ASSERT_TRUE(key.ok()) << key_text;
  ASSERT_TRUE(pub.ok()) << pub_text;
  // The public half of a libsodium secret key is its second 32 bytes.
  EXPECT_TRUE(std::equal(pub->begin(), pub->end(), key->begin() + 32))
      << "the two files are not one pair";
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "release.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the secret key must not be readable by others";
  EXPECT_FALSE(fs::exists(dir_ / "release.key.tmp"));
  // A second pair is a different pair.
  auto [key2, pub2] = Keygen("other");
  EXPECT_NE(ReadAll(pub2), pub_text);
}

// Issue 13 item 5: in a directory others can write, a file or link placed
// under the name keygen once wrote through (NAME.key.tmp) gets no byte of
// the secret, and the key file is a new private file of keygen's own.
TEST_F(SigningProcess, KeygenNeverWritesThroughAPreparedName) {
  fs::path stolen = dir_ / "stolen";
  fs::create_symlink(stolen, dir_ / "release.key.tmp");
  { std::ofstream(dir_ / "release.pub.tmp") << "prepared"; }
  RunResult r = Duetc({"keygen", "-o", (dir_ / "release").string()});
  ASSERT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_FALSE(fs::exists(stolen)) << "the secret went through the prepared link";
  EXPECT_EQ(ReadAll(dir_ / "release.pub.tmp"), "prepared");
  EXPECT_FALSE(fs::is_symlink(dir_ / "release.key"));
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ / "release.key").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::getuid());
  EXPECT_TRUE(bundle::ParseSecretKey(ReadAll(dir_ / "release.key")).ok());
  // Nothing temporary is left behind.
  std::set<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    std::string name = e.path().filename().string();
    if (name != ".stdin" && name != ".stdout" && name != ".stderr") names.insert(name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"release.key", "release.pub", "release.key.tmp",
                                          "release.pub.tmp"}));
}

TEST_F(SigningProcess, InspectAndTransformAcceptTheRightKeyOnly) {
  auto [key, pub] = Keygen("ours");
  auto [other_key, other_pub] = Keygen("theirs");
  fs::path signed_bundle =
      CompileWithDuetc({std::string(kMinimal)}, "signed.duetb", {"--sign", key.string()});
  fs::path unsigned_bundle = CompileWithDuetc({std::string(kMinimal)}, "unsigned.duetb");
  Expected<bundle::PublicKey> our_key = bundle::ParsePublicKey(ReadAll(pub));
  ASSERT_TRUE(our_key.ok());

  RunResult plain = Duetc({"inspect", signed_bundle.string()});
  EXPECT_EQ(plain.exit_code, kExitClean) << Show(plain);
  EXPECT_NE(plain.out.find("signed by   " + KeyHex(*our_key) + "\n"), std::string::npos)
      << Show(plain);
  RunResult plain_unsigned = Duetc({"inspect", unsigned_bundle.string()});
  EXPECT_NE(plain_unsigned.out.find("signed by   (not signed)\n"), std::string::npos)
      << Show(plain_unsigned);

  RunResult json = Duetc({"inspect", "--json", "--trust", pub.string(), signed_bundle.string()});
  ASSERT_EQ(json.exit_code, kExitClean) << Show(json);
  nlohmann::json doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << Show(json);
  EXPECT_EQ(doc["bundle"]["signed_by"], KeyHex(*our_key)) << doc.dump(2);

  RunResult right = Duetc({"inspect", "--trust", pub.string(), signed_bundle.string()});
  EXPECT_EQ(right.exit_code, kExitClean) << Show(right);

  RunResult wrong = Duetc({"inspect", "--trust", other_pub.string(), signed_bundle.string()});
  EXPECT_EQ(wrong.exit_code, kExitUsage) << Show(wrong);
  EXPECT_EQ(wrong.out, "") << Show(wrong);
  EXPECT_EQ(wrong.err, "duetc: " + signed_bundle.string() +
                           ": refusing bundle: it is signed by a key that is not trusted\n")
      << Show(wrong);

  RunResult missing_signature =
      Duetc({"inspect", "--trust", pub.string(), unsigned_bundle.string()});
  EXPECT_EQ(missing_signature.exit_code, kExitUsage) << Show(missing_signature);
  EXPECT_EQ(missing_signature.err,
            "duetc: " + unsigned_bundle.string() +
                ": refusing bundle: it is not signed, and only signed bundles are accepted\n")
      << Show(missing_signature);

  auto transform = [&](const fs::path& bundle, const fs::path& trust) {
    std::vector<std::string> args = {"transform", "--bundle", bundle.string(), "--map", "customers",
                                     "--from",    "fo"};
    if (!trust.empty()) args.insert(args.end(), {"--trust", trust.string()});
    return Duet(args, kGoodRow);
  };
  RunResult t_right = transform(signed_bundle, pub);
  EXPECT_EQ(t_right.exit_code, kExitClean) << Show(t_right);
  EXPECT_NE(t_right.out, "") << Show(t_right);
  RunResult t_open = transform(unsigned_bundle, {});
  EXPECT_EQ(t_open.exit_code, kExitClean) << Show(t_open);
  EXPECT_EQ(t_open.out, t_right.out);

  for (const auto& [bundle, trust, why] :
       {std::tuple{signed_bundle, other_pub,
                   std::string("it is signed by a key that is not trusted")},
        std::tuple{unsigned_bundle, pub,
                   std::string("it is not signed, and only signed bundles are accepted")}}) {
    RunResult r = transform(bundle, trust);
    EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
    EXPECT_EQ(r.out, "") << "a refused bundle ran\n" << Show(r);
    EXPECT_EQ(r.err, "duet: " + bundle.string() + ": refusing bundle: " + why + "\n") << Show(r);
  }
}

// Every tool that reads a key file refuses a malformed one, names the file
// and says what a key file looks like; compile writes no bundle then.
TEST_F(SigningProcess, MalformedKeyFilesAreRefusedClearly) {
  auto [key, pub] = Keygen("good");
  fs::path signed_bundle =
      CompileWithDuetc({std::string(kMinimal)}, "signed.duetb", {"--sign", key.string()});
  std::string pub_text = ReadAll(pub);
  std::string key_text = ReadAll(key);
  struct Case {
    std::string name;
    std::string contents;
    std::string message;  // after "PATH: "
  };
  const std::string kNotPublic = "not a key file: expected one line 'duet-ed25519-public <hex>'";
  const std::string kNotSecret = "not a key file: expected one line 'duet-ed25519-secret <hex>'";
  const std::vector<Case> public_cases = {
      {"empty.pub", "", kNotPublic},
      {"secret.pub", key_text, kNotPublic},
      {"short.pub", pub_text.substr(0, pub_text.size() - 3) + "\n", kNotPublic},
      {"binary.pub", std::string("\0\1\2\3\xff", 5), kNotPublic},
      {"badhex.pub", "duet-ed25519-public " + std::string(64, 'z') + "\n",
       "key file holds malformed hex"},
  };
  for (const Case& c : public_cases) {
    fs::path path = Write(c.name, c.contents);
    RunResult inspect = Duetc({"inspect", "--trust", path.string(), signed_bundle.string()});
    EXPECT_EQ(inspect.exit_code, kExitUsage) << c.name << "\n" << Show(inspect);
    EXPECT_EQ(inspect.out, "") << c.name;
    EXPECT_EQ(inspect.err, "duetc: " + path.string() + ": " + c.message + "\n") << c.name << "\n"
                                                                                << Show(inspect);
    RunResult t = Duet({"transform", "--bundle", signed_bundle.string(), "--map", "customers",
                        "--from", "fo", "--trust", path.string()},
                       kGoodRow);
    EXPECT_EQ(t.exit_code, kExitUsage) << c.name << "\n" << Show(t);
    EXPECT_EQ(t.out, "") << c.name;
    EXPECT_EQ(t.err, "duet: " + path.string() + ": " + c.message + "\n") << c.name << "\n"
                                                                         << Show(t);
  }
  const std::vector<Case> secret_cases = {
      {"empty.key", "", kNotSecret},
      {"public.key", pub_text, kNotSecret},
      {"badhex.key", "duet-ed25519-secret " + std::string(128, '-') + "\n",
       "key file holds malformed hex"},
  };
  for (const Case& c : secret_cases) {
    fs::path path = Write(c.name, c.contents);
    fs::path output = dir_ / ("from-" + c.name + ".duetb");
    RunResult r =
        Duetc({"compile", std::string(kMinimal), "-o", output.string(), "--sign", path.string()});
    EXPECT_EQ(r.exit_code, kExitUsage) << c.name << "\n" << Show(r);
    EXPECT_EQ(r.err, "duetc: " + path.string() + ": " + c.message + "\n") << c.name << "\n"
                                                                          << Show(r);
    EXPECT_FALSE(fs::exists(output)) << c.name << ": a bundle was written anyway";
  }
  // Missing key files.
  fs::path nowhere = dir_ / "missing.pub";
  RunResult inspect = Duetc({"inspect", "--trust", nowhere.string(), signed_bundle.string()});
  EXPECT_EQ(inspect.exit_code, kExitUsage) << Show(inspect);
  EXPECT_NE(inspect.err.find("cannot open '" + nowhere.string() + "'"), std::string::npos)
      << Show(inspect);
  RunResult t = Duet({"transform", "--bundle", signed_bundle.string(), "--map", "customers",
                      "--from", "fo", "--trust", nowhere.string()});
  EXPECT_EQ(t.exit_code, kExitUsage) << Show(t);
  EXPECT_NE(t.err.find("cannot open public key file '" + nowhere.string() + "'"), std::string::npos)
      << Show(t);
  fs::path output = dir_ / "nokey.duetb";
  RunResult c = Duetc({"compile", std::string(kMinimal), "-o", output.string(), "--sign",
                       (dir_ / "missing.key").string()});
  EXPECT_EQ(c.exit_code, kExitUsage) << Show(c);
  EXPECT_FALSE(fs::exists(output));
}

}  // namespace
}  // namespace duet::bundle_test
