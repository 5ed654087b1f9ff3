// anshin-tz-bench: what one zone conversion costs (bench/tz runs it). Ingest converts every tap
// (DateOf for the facility day, At for the day's closing and expected-departure times), and the
// mailer formats every notice's time (ToLocal), so these are on the hot path.
//
// For each zone and operation: a table of 4096 inputs spread over 2025..2027 (fixed seed), run
// through `--calls` times per repetition; prints the median ns per call of `--reps` repetitions
// as "zone op ns_per_call" lines. Uses only the public TimeZone API and sys::LoadTimeZone.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/sys/sys.hpp"
#include "common/time.hpp"

namespace anshin::bench {
namespace {

using Steady = std::chrono::steady_clock;

struct Inputs {
  std::vector<TimePoint> instants;
  std::vector<LocalDate> dates;
  std::vector<LocalTime> times;
};

Inputs MakeInputs(std::size_t n) {
  std::mt19937_64 rng(20261126);
  const std::int64_t start = ToUnixMillis(ParseRfc3339("2025-01-01T00:00:00Z").value());
  const std::int64_t span = std::int64_t(3) * 365 * 86400 * 1000;
  Inputs in;
  for (std::size_t i = 0; i < n; ++i) {
    TimePoint t = FromUnixMillis(start + std::int64_t(rng() % std::uint64_t(span)));
    in.instants.push_back(t);
    LocalDateTime l = TimeZone().ToLocal(t);
    in.dates.push_back(l.date);
    in.times.push_back(l.time);
  }
  return in;
}

// Median ns per call of `reps` runs of `calls` calls of op(i).
template <typename Op>
double Measure(std::size_t calls, int reps, std::size_t n, Op op) {
  std::vector<double> ns;
  std::int64_t sink = 0;
  for (std::size_t i = 0; i < std::min(calls, n); ++i) sink += op(i);  // warm caches
  for (int r = 0; r < reps; ++r) {
    auto t0 = Steady::now();
    for (std::size_t i = 0; i < calls; ++i) sink += op(i % n);
    auto t1 = Steady::now();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / double(calls));
  }
  if (sink == 42) std::fputs("", stderr);  // keeps the calls from being optimised away
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

int Run(int argc, char** argv) {
  std::size_t calls = 2'000'000;
  int reps = 5;
  std::vector<std::string> names = {"Asia/Tokyo", "America/New_York", "Europe/Berlin",
                                    "Australia/Lord_Howe"};
  CLI::App app("ns per TimeZone conversion");
  app.add_option("--calls", calls, "calls per repetition");
  app.add_option("--reps", reps, "repetitions (the median is printed)");
  app.add_option("--zone", names, "zones to measure");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::shared_ptr<const TimeZone>> zones;
  zones.push_back(std::make_shared<const TimeZone>(TimeZone::Fixed("Fixed+09:00", 9 * 3600)));
  for (const std::string& name : names) {
    auto z = sys::LoadTimeZone(name);
    if (!z.ok()) {
      std::fprintf(stderr, "anshin-tz-bench: %s\n", z.status().ToString().c_str());
      return 1;
    }
    zones.push_back(*z);
  }
  const Inputs in = MakeInputs(4096);
  const std::size_t n = in.instants.size();
  std::printf("# zone op ns_per_call (median of %d x %zu calls)\n", reps, calls);
  for (const auto& zp : zones) {
    const TimeZone& z = *zp;
    auto report = [&](const char* op, double ns) {
      std::printf("%s %s %.1f\n", z.name().c_str(), op, ns);
      std::fflush(stdout);
    };
    report("ToLocal", Measure(calls, reps, n, [&](std::size_t i) {
             LocalDateTime l = z.ToLocal(in.instants[i]);
             return std::int64_t(l.time.seconds + l.date.day + l.utc_offset_seconds);
           }));
    report("DateOf", Measure(calls, reps, n, [&](std::size_t i) {
             LocalDate d = z.DateOf(in.instants[i]);
             return std::int64_t(d.day + d.month);
           }));
    report("At", Measure(calls, reps, n, [&](std::size_t i) {
             return ToUnixMillis(z.At(in.dates[i], in.times[i]));
           }));
    report("OffsetAt", Measure(calls, reps, n, [&](std::size_t i) {
             return std::int64_t(z.OffsetAt(in.instants[i]));
           }));
  }
  return 0;
}

}  // namespace
}  // namespace anshin::bench

int main(int argc, char** argv) { return anshin::bench::Run(argc, argv); }
