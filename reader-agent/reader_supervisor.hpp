// ReaderSupervisor: keeps a CardReader working and turns its samples into taps.
//
// It opens the reader (retrying with exponential backoff while the device is absent), polls it
// every `poll_interval`, feeds the samples to a TapDetector, and hands each new tap to the
// `on_tap` callback together with the moment the card was seen. Any Open() or Poll() failure is
// a fault: the reader is closed, the fault reported through `on_state` with the library's
// message, and the reader reopened after a backoff. It never gives up and never exits because
// of a reader fault; it reports recovery once the reader polls again.
//
// Run() is the body of the reader thread and returns when `stop` is signalled. The callbacks run
// on that thread; on_tap is the tap path and must be quick.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/time.hpp"
#include "common/types.hpp"
#include "reader-agent/card_reader.hpp"
#include "reader-agent/stop_signal.hpp"

namespace anshin::agent {

enum class ReaderState { kStarting, kOk, kError };
std::string_view ReaderStateName(ReaderState s);  // "starting" | "ok" | "error"

class ReaderSupervisor {
 public:
  struct Options {
    Millis poll_interval{100};
    Millis debounce{2000};
    Millis backoff_min{500};
    Millis backoff_max{30'000};
  };
  // `seen_at` is a steady-clock time for latency measurements.
  using TapFn = std::function<void(const Idm& idm, std::chrono::steady_clock::time_point seen_at)>;
  using StateFn = std::function<void(ReaderState state, const std::string& error)>;

  ReaderSupervisor(CardReader& reader, Options options, TapFn on_tap, StateFn on_state);
  void Run(StopSignal& stop);

 private:
  CardReader& reader_;
  Options options_;
  TapFn on_tap_;
  StateFn on_state_;
};

}  // namespace anshin::agent
