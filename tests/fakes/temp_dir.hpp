// TempDir: a fresh directory under $TMPDIR (or /tmp) for one test, removed with its contents
// when the object goes out of scope. Safe for tests running in parallel.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace anshin::fakes {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "anshin-test") {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    std::string templ = (base / (prefix + "-XXXXXX")).string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + templ);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace anshin::fakes
