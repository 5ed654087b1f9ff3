// A deployment home in a temp dir with one facility (hikari-1), and anshin-admin run
// in-process against it, for the CLI tests of the find/change commands.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "provisioning/admin.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::admin::testing {

struct CliResult {
  int code;
  std::string out, err;
};

inline CliResult RunAdmin(const std::filesystem::path& home, std::vector<std::string> args) {
  args.insert(args.begin(), {"anshin-admin", "--home", home.string()});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

struct TestHome {
  fakes::TempDir dir{"cli-test"};
  std::filesystem::path home = dir / "home";
  TestHome() {
    REQUIRE(RunAdmin(home, {"init", "--server-san", "127.0.0.1"}).code == 0);
    REQUIRE(
        RunAdmin(home, {"facility", "add", "--code", "hikari-1", "--name", "光が丘第一学童クラブ"})
            .code == 0);
  }
  CliResult Run(std::vector<std::string> args) const { return RunAdmin(home, std::move(args)); }

  // Reads through a snapshot of the home's store; fails the test on a store error.
  template <typename Fn>
  auto Read(Fn&& fn) const {
    auto admin = Admin::Open(home, "tester").value();
    return store::InRead(admin->store(), std::forward<Fn>(fn)).value();
  }
};

}  // namespace anshin::admin::testing
