#include "runtime/tls.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/reflection_service.h"

namespace newsgrid {
namespace {

using ::testing::HasSubstr;

// A CA, a server certificate for localhost and a client certificate, made
// with the openssl command (Debian's openssl package) in a fresh folder.
class TlsFiles {
 public:
  TlsFiles() {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("newsgrid-tls-", getpid());
    std::filesystem::create_directories(dir_);
    Run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
        "-keyout ca.key -out ca.pem");
    Run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
        "-keyout other.key -out other.pem");
    for (const char* who : {"server", "client"}) {
      Run(absl::StrCat("openssl req -newkey rsa:2048 -nodes -subj /CN=", who, " -keyout ", who,
                       ".key -out ", who, ".csr"));
      Run(absl::StrCat("printf 'subjectAltName=DNS:localhost' > ", who, ".ext && ",
                       "openssl x509 -req -in ", who, ".csr -CA ca.pem -CAkey ca.key ",
                       "-CAcreateserial -days 2 -extfile ", who, ".ext -out ", who, ".pem"));
    }
    std::ofstream(dir_ / "not-pem.txt") << "just text\n";
  }
  ~TlsFiles() { std::filesystem::remove_all(dir_); }
  std::string operator()(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void Run(const std::string& cmd) {
    const std::string full = absl::StrCat("cd ", dir_.string(), " && ", cmd, " >/dev/null 2>&1");
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
  }
  std::filesystem::path dir_;
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = new TlsFiles(); }
  static void TearDownTestSuite() { delete files_; }
  static TlsFiles* files_;
};
TlsFiles* TlsTest::files_ = nullptr;

TEST_F(TlsTest, NoFilesMeansPlaintext) {
  EXPECT_TRUE(MakeServerCredentials({}).ok());
  EXPECT_TRUE(MakePeerCredentials({}).ok());
}

TEST_F(TlsTest, IncompleteOrBadSettingsNameTheFlag) {
  const TlsFiles& f = *files_;
  auto server = [](ServerTlsFiles files) { return MakeServerCredentials(files).status(); };
  auto peer = [](PeerTlsFiles files) { return MakePeerCredentials(files).status(); };
  EXPECT_THAT(server({.cert = f("server.pem")}).message(), HasSubstr("go together"));
  EXPECT_THAT(server({.client_ca = f("ca.pem")}).message(), HasSubstr("--tls_client_ca_file"));
  EXPECT_THAT(server({.cert = f("missing.pem"), .key = f("server.key")}).message(),
              HasSubstr("--tls_cert_file: cannot read"));
  EXPECT_THAT(server({.cert = f("server.pem"), .key = f("not-pem.txt")}).message(),
              HasSubstr("--tls_key_file"));
  EXPECT_THAT(peer({.cert = f("client.pem"), .key = f("client.key")}).message(),
              HasSubstr("need --peer_tls_ca_file"));
  EXPECT_THAT(peer({.ca = f("ca.pem"), .cert = f("client.pem")}).message(),
              HasSubstr("go together"));
  EXPECT_THAT(peer({.ca = f("not-pem.txt")}).message(), HasSubstr("is not PEM"));
  for (const absl::Status& s : {server({.cert = f("server.pem")}), peer({.ca = f("nope")})}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
}

// A real handshake: a server requiring client certificates (mTLS), and
// clients built by MakePeerCredentials with and without the right files.
TEST_F(TlsTest, MutualTlsAcceptsOnlyVerifiedClients) {
  const TlsFiles& f = *files_;
  auto creds = MakeServerCredentials(
      {.cert = f("server.pem"), .key = f("server.key"), .client_ca = f("ca.pem")});
  ASSERT_TRUE(creds.ok()) << creds.status();
  grpc::ServerBuilder builder;
  ReflectionService reflection({});  // any callback service: the server needs one
  builder.RegisterService(&reflection);
  int port = 0;
  builder.AddListeningPort("localhost:0", *creds, &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);

  // The channel becomes READY only when the TLS handshake succeeds.
  auto connects = [port](const PeerTlsFiles& files) {
    auto channel_creds = MakePeerCredentials(files);
    EXPECT_TRUE(channel_creds.ok()) << channel_creds.status();
    auto channel = grpc::CreateChannel(absl::StrCat("localhost:", port), *channel_creds);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::milliseconds(1500));
  };
  EXPECT_TRUE(connects({.ca = f("ca.pem"), .cert = f("client.pem"), .key = f("client.key")}));
  // No client certificate: the server refuses the handshake.
  EXPECT_FALSE(connects({.ca = f("ca.pem")}));
  // A client that trusts another CA refuses the server.
  EXPECT_FALSE(connects({.ca = f("other.pem"), .cert = f("client.pem"), .key = f("client.key")}));
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace newsgrid
