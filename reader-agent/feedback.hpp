// Feedback: tells the child (and the staff nearby) what became of a tap or of the reader.
//
// Each outcome prints one line on the console (stdout) and runs the command configured for it
// (e.g. `aplay /usr/share/anshin/ok.wav`). Commands run without a shell (posix_spawnp, argv
// split on blanks with '…' / "…" quoting), with stdin on /dev/null, a clean signal mask and a
// timeout after which they are killed. They run one at a time on Feedback's own thread, so the
// tap path only enqueues and never waits; when commands pile up, the oldest waiting ones are
// dropped (a sound for a tap long gone helps nobody). Lines and commands never carry personal
// data: the agent has none, and lines show only the outcome and the tap's sequence number.
//
// Thread-safe. The destructor waits for the running command (at most the timeout).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::agent {

// kSeeStaff: a lost card's tap, saved (so the alert is raised) but not a normal "OK".
enum class Outcome { kAccepted, kNotRegistered, kReaderError, kSeeStaff };
// "accepted" | "not_registered" | "reader_error" | "see_staff"
std::string_view OutcomeName(Outcome o);

// Splits a command line into argv: blanks separate words; '…' and "…" quote; \ escapes the next
// character outside single quotes. An unterminated quote is an error.
Result<std::vector<std::string>> SplitCommand(std::string_view command);

// Runs argv without a shell and waits up to `timeout`; kills it after that. Returns the exit
// status, or an error (spawn failure with strerror, timeout).
Result<int> RunCommand(const std::vector<std::string>& argv, Millis timeout);

class Feedback {
 public:
  struct Commands {
    std::vector<std::string> accepted, not_registered, reader_error, see_staff;  // empty: none
  };
  Feedback(Commands commands, Millis timeout, std::ostream& console);
  ~Feedback();
  Feedback(const Feedback&) = delete;
  Feedback& operator=(const Feedback&) = delete;

  // Prints the console line at once and queues the outcome's command. `detail` is shown after
  // the outcome ("tap #12 saved", a reader error message).
  void Signal(Outcome outcome, std::string_view detail);

  // How many commands have finished (run, failed or killed); for tests.
  std::uint64_t finished() const;

 private:
  void Run();

  const Commands commands_;
  const Millis timeout_;
  std::ostream& console_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::string>> queue_;  // guarded by mu_
  bool stop_ = false;                           // guarded by mu_
  std::uint64_t finished_ = 0;                  // guarded by mu_
  std::thread worker_;
};

}  // namespace anshin::agent
