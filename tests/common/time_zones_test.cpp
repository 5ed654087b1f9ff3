// Loading zones from the system's tzdata (sys::LoadTimeZone).
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/sys/time_zones.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::sys {
namespace {

// Sets $TZDIR for one scope and puts the previous value back.
class ScopedTzdir {
 public:
  explicit ScopedTzdir(const std::filesystem::path& dir) {
    if (const char* old = std::getenv("TZDIR")) old_ = old;
    ::setenv("TZDIR", dir.c_str(), 1);
  }
  ~ScopedTzdir() {
    if (old_.empty()) {
      ::unsetenv("TZDIR");
    } else {
      ::setenv("TZDIR", old_.c_str(), 1);
    }
  }

 private:
  std::string old_;
};

TEST_CASE("zone names that are not zone names are refused before any lookup", "[tz]") {
  for (const char* bad : {"", "../etc/passwd", "Asia/../../etc/passwd", "/etc/passwd",
                          "file:/etc/passwd", "Asia/Tokyo\n", "Asia Tokyo"}) {
    INFO(bad);
    auto z = LoadTimeZone(bad);
    REQUIRE_FALSE(z.ok());
    CHECK(z.status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("an unknown zone is NotFound and the error names it", "[tz][tzdata]") {
  auto z = LoadTimeZone("Asia/Atlantis");
  REQUIRE_FALSE(z.ok());
  CHECK(z.status().code() == Status::Code::kNotFound);
  CHECK_THAT(z.status().message(), Catch::Matchers::Contains("\"Asia/Atlantis\""));
  // A folder of zones is not a zone.
  CHECK(LoadTimeZone("Asia").status().code() == Status::Code::kNotFound);
  // A file that is not zone data.
  auto tab = LoadTimeZone("zone.tab");
  REQUIRE_FALSE(tab.ok());
  CHECK(tab.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(tab.status().message(), Catch::Matchers::Contains("\"zone.tab\""));
}

TEST_CASE("UTC needs no file and real zones carry their name", "[tz][tzdata]") {
  auto utc = LoadTimeZone("UTC");
  REQUIRE(utc.ok());
  CHECK((*utc)->name() == "UTC");
  auto tokyo = LoadTimeZone("Asia/Tokyo");
  REQUIRE(tokyo.ok());
  CHECK((*tokyo)->name() == "Asia/Tokyo");
}

TEST_CASE("zones are read from $TZDIR when it is set", "[tz][tzdata]") {
  fakes::TempDir dir("anshin-tzdir");
  std::filesystem::create_directories(dir / "Test");
  std::filesystem::copy_file("/usr/share/zoneinfo/Australia/Lord_Howe", dir / "Test/Howe");
  std::ofstream(dir / "Test/Broken") << "this is not TZif data\n";
  {
    ScopedTzdir tzdir(dir.path());
    auto z = LoadTimeZone("Test/Howe");
    REQUIRE(z.ok());
    CHECK((*z)->OffsetAt(ParseRfc3339("2026-07-01T00:00:00Z").value()) == 10 * 3600 + 1800);
    auto broken = LoadTimeZone("Test/Broken");
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.status().code() == Status::Code::kInvalidArgument);
    // Only $TZDIR is searched.
    CHECK(LoadTimeZone("Asia/Kolkata").status().code() == Status::Code::kNotFound);
  }
  CHECK(LoadTimeZone("Test/Somewhere").status().code() == Status::Code::kNotFound);
}

}  // namespace
}  // namespace anshin::sys
