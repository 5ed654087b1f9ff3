#include "reader-agent/reader_supervisor.hpp"

#include <spdlog/spdlog.h>

#include "reader-agent/backoff.hpp"
#include "reader-agent/tap_detector.hpp"

namespace anshin::agent {
namespace {

// The detector only needs durations, so it runs on the steady clock (immune to clock steps).
TimePoint SteadyAsTimePoint(std::chrono::steady_clock::time_point t) {
  return TimePoint(std::chrono::duration_cast<Millis>(t.time_since_epoch()));
}

}  // namespace

std::string_view ReaderStateName(ReaderState s) {
  switch (s) {
    case ReaderState::kStarting:
      return "starting";
    case ReaderState::kOk:
      return "ok";
    case ReaderState::kError:
      return "error";
  }
  return "unknown";
}

ReaderSupervisor::ReaderSupervisor(CardReader& reader, Options options, TapFn on_tap,
                                   StateFn on_state)
    : reader_(reader),
      options_(options),
      on_tap_(std::move(on_tap)),
      on_state_(std::move(on_state)) {}

void ReaderSupervisor::Run(StopSignal& stop) {
  using Steady = std::chrono::steady_clock;
  TapDetector detector(options_.debounce);
  Backoff backoff(options_.backoff_min, options_.backoff_max,
                  static_cast<std::uint64_t>(Steady::now().time_since_epoch().count()));
  ReaderState state = ReaderState::kStarting;
  std::string last_error;
  auto fault = [&](const Status& s) {
    reader_.Close();
    // Report each distinct fault once; retries that fail the same way stay quiet.
    if (state != ReaderState::kError || s.message() != last_error) {
      spdlog::error("reader {}: {}", reader_.Describe(), s.message());
      state = ReaderState::kError;
      last_error = s.message();
      on_state_(state, last_error);
    }
    Millis wait = backoff.Next();
    spdlog::debug("reader {}: retry in {} ms", reader_.Describe(), wait.count());
    return stop.WaitFor(wait);
  };

  while (!stop.stopped()) {
    if (Status s = reader_.Open(); !s.ok()) {
      if (!fault(s)) break;
      continue;
    }
    spdlog::info("reader {} opened", reader_.Describe());
    bool healthy = true;
    Steady::time_point next_poll = Steady::now();
    while (healthy && !stop.stopped()) {
      auto sample = reader_.Poll();
      Steady::time_point seen_at = Steady::now();
      if (!sample.ok()) {
        healthy = false;
        if (!fault(sample.status())) break;
        continue;
      }
      if (state != ReaderState::kOk) {
        if (state == ReaderState::kError) spdlog::info("reader {} recovered", reader_.Describe());
        state = ReaderState::kOk;
        last_error.clear();
        backoff.Reset();
        on_state_(state, "");
      }
      if (auto tap = detector.Sample(*sample, SteadyAsTimePoint(seen_at))) on_tap_(*tap, seen_at);
      next_poll += options_.poll_interval;
      Steady::time_point now = Steady::now();
      if (next_poll < now) next_poll = now;  // a slow poll does not cause a burst of polls
      if (!stop.WaitFor(std::chrono::duration_cast<Millis>(next_poll - now))) break;
    }
  }
  reader_.Close();
}

}  // namespace anshin::agent
