// Loading zones from the system's tzdata (sys::LoadTimeZone) and the shared cache
// (sys::TimeZones).
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

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

// A loader that hands out fixed zones and counts its calls; names starting with "bad" fail
// the first `failures` times.
struct CountingLoader {
  std::map<std::string, int>* calls;
  std::atomic<int>* failures;
  Result<std::shared_ptr<const TimeZone>> operator()(const std::string& name) const {
    ++(*calls)[name];
    if (name.rfind("bad", 0) == 0 && failures->fetch_sub(1) > 0)
      return Status::NotFound("no zone " + name);
    return std::make_shared<const TimeZone>(TimeZone::Fixed(name, 9 * 3600));
  }
};

TEST_CASE("TimeZones loads each name once and returns the same zone", "[tz]") {
  std::map<std::string, int> calls;
  std::atomic<int> failures = 0;
  TimeZones zones(CountingLoader{&calls, &failures});
  auto a = zones.Get("Asia/Tokyo");
  auto b = zones.Get("Asia/Tokyo");
  auto c = zones.Get("Europe/Berlin");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a->get() == b->get());
  CHECK(a->get() != c->get());
  CHECK((*c)->name() == "Europe/Berlin");
  CHECK(calls == std::map<std::string, int>{{"Asia/Tokyo", 1}, {"Europe/Berlin", 1}});
}

TEST_CASE("TimeZones does not cache failures", "[tz]") {
  std::map<std::string, int> calls;
  std::atomic<int> failures = 1;
  TimeZones zones(CountingLoader{&calls, &failures});
  auto first = zones.Get("bad/Zone");
  REQUIRE_FALSE(first.ok());
  CHECK(first.status().code() == Status::Code::kNotFound);
  auto second = zones.Get("bad/Zone");
  REQUIRE(second.ok());
  auto third = zones.Get("bad/Zone");
  CHECK(third->get() == second->get());
  CHECK(calls["bad/Zone"] == 2);
}

TEST_CASE("TimeZones is safe to share between threads", "[tz]") {
  std::map<std::string, int> calls;  // the loader runs under TimeZones' mutex
  std::atomic<int> failures = 0;
  TimeZones zones(CountingLoader{&calls, &failures});
  const std::vector<std::string> names = {"A/One", "B/Two", "C/Three", "D/Four"};
  std::vector<std::vector<const TimeZone*>> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 500; ++round) {
        auto z = zones.Get(names[(t + round) % names.size()]);
        seen[t].push_back(z.ok() ? z->get() : nullptr);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& n : names) CHECK(calls[n] == 1);
  std::map<std::string, const TimeZone*> by_name;
  for (const auto& list : seen) {
    for (const TimeZone* z : list) {
      REQUIRE(z != nullptr);
      auto [it, inserted] = by_name.emplace(z->name(), z);
      CHECK(it->second == z);
    }
  }
  CHECK(by_name.size() == names.size());
}

TEST_CASE("TimeZones loads real zones by default", "[tz][tzdata]") {
  TimeZones zones;
  auto z = zones.Get("Europe/Berlin");
  REQUIRE(z.ok());
  CHECK((*z)->OffsetAt(ParseRfc3339("2026-07-01T00:00:00Z").value()) == 2 * 3600);
  CHECK(zones.Get("Europe/Berlin")->get() == z->get());
  CHECK(zones.Get("Europe/Atlantis").status().code() == Status::Code::kNotFound);
}

}  // namespace
}  // namespace anshin::sys
