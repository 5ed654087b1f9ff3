// anshin-admin staff add|disable|enable|passwd|list: the password comes from stdin only, the
// account works for a console login, every change is audited without the password.
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "services/staff.hpp"
#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

using nlohmann::json;

// Runs anshin-admin with `input` as its stdin.
CliResult RunWithStdin(const TestHome& h, const std::string& input, std::vector<std::string> args) {
  std::istringstream in(input);
  std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
  CliResult r = h.Run(std::move(args));
  std::cin.rdbuf(saved);
  std::cin.clear();
  return r;
}

Result<services::StaffLogin> Login(const TestHome& h, const std::string& name,
                                   const std::string& password) {
  auto admin = Admin::Open(h.home, "tester").value();
  SystemClock clock;
  services::StaffAccounts accounts(admin->store(), clock);
  return accounts.Login(name, password);
}

TEST_CASE("staff cli: add reads the password from stdin and the account logs in", "[admin]") {
  TestHome h;
  auto r = RunWithStdin(h, "a long enough password\n",
                        {"staff", "add", "--name", "sato", "--role", "facility", "--facility",
                         "hikari-1", "--email", "sato@example.jp"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("staff sato added") != std::string::npos);
  REQUIRE(RunWithStdin(h, "another long password\n",
                       {"staff", "add", "--name", "abe", "--role", "callcenter"})
              .code == 0);
  CHECK(Login(h, "sato", "a long enough password").ok());

  // No password on stdin, a short one, a facility role without its facility: refused.
  CHECK(RunWithStdin(h, "", {"staff", "add", "--name", "x1", "--role", "admin"}).code != 0);
  CHECK(RunWithStdin(h, "short\n", {"staff", "add", "--name", "x2", "--role", "admin"}).code != 0);
  CHECK(RunWithStdin(h, "a long enough password\n",
                     {"staff", "add", "--name", "x3", "--role", "facility"})
            .code != 0);
  CHECK(RunWithStdin(h, "a long enough password\n",
                     {"staff", "add", "--name", "x4", "--role", "janitor"})
            .code != 0);
  // There is no option to pass a password on the command line.
  CHECK(RunWithStdin(h, "",
                     {"staff", "add", "--name", "x5", "--role", "admin", "--password",
                      "a long enough password"})
            .code != 0);

  auto listed = json::parse(h.Run({"staff", "list", "--format", "json"}).out);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["name"] == "abe");
  CHECK(listed[0]["facility"].is_null());
  CHECK(listed[1]["name"] == "sato");
  CHECK(listed[1]["role"] == "facility");
  CHECK(listed[1]["facility"] == "hikari-1");
  CHECK(listed[1]["status"] == "active");
  CHECK(listed[1]["email"] == "sato@example.jp");
  auto table = h.Run({"staff", "list"}).out;
  CHECK(table.find("sato") != std::string::npos);
  CHECK(table.find("hash") == std::string::npos);
  CHECK(table.find("argon2") == std::string::npos);
}

TEST_CASE("staff cli: disable, enable and passwd", "[admin]") {
  TestHome h;
  REQUIRE(RunWithStdin(h, "a long enough password\n",
                       {"staff", "add", "--name", "abe", "--role", "operator"})
              .code == 0);
  REQUIRE(h.Run({"staff", "disable", "--name", "abe"}).code == 0);
  CHECK_FALSE(Login(h, "abe", "a long enough password").ok());
  CHECK(json::parse(h.Run({"staff", "list", "--format", "json"}).out)[0]["status"] == "disabled");
  REQUIRE(h.Run({"staff", "enable", "--name", "abe"}).code == 0);
  REQUIRE(RunWithStdin(h, "the new long password\n", {"staff", "passwd", "--name", "abe"}).code ==
          0);
  CHECK_FALSE(Login(h, "abe", "a long enough password").ok());
  CHECK(Login(h, "abe", "the new long password").ok());
  CHECK(h.Run({"staff", "disable", "--name", "nobody"}).code != 0);

  auto audit = h.Read([](store::ReadTxn& t) { return t.audit().List(); });
  std::vector<std::string> actions;
  for (const auto& e : audit) {
    if (e.action.rfind("staff.", 0) == 0 && e.action.find("login") == std::string::npos)
      actions.push_back(e.action);
    CHECK(e.detail.find("password") == std::string::npos);
  }
  CHECK(actions ==
        std::vector<std::string>{"staff.add", "staff.disable", "staff.enable", "staff.passwd"});
}

}  // namespace
}  // namespace anshin::admin::testing
