// SimulatedCardReader: a CardReader without hardware, for the demo and for tests.
//
// Taps come from a script file or from a FIFO, one per line:
//
//     # comment
//     <delay_ms> <idm-hex> [<present_ms>]      e.g. "1500 0123456789abcdef"
//
// Each line presents the card `delay_ms` after the previous card left the field (after Open()
// for the first line; for a FIFO, no earlier than the moment the line arrived), keeps it in the
// field for `present_ms` (default `present_for`) and for at least one Poll(), then removes it for
// at least one Poll(). A script is read once at Open() and a bad line fails Open() naming the line;
// a FIFO is read as lines arrive (opened non-blocking, so Open() does not wait for a writer) and a
// bad line is a Poll() error naming the line, which the reader supervisor reports like any reader
// fault.
//
// Devices: "simulated:/path/to/script" and "simulated-fifo:/path/to/fifo".
// Not thread-safe (one thread owns a reader). Time comes from the injected Clock, which must
// outlive the reader.
#pragma once

#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "common/types.hpp"
#include "reader-agent/card_reader.hpp"

namespace anshin::agent {

struct ScriptedTap {
  Millis delay{0};
  Idm idm;
  std::optional<Millis> present_for;  // how long the card rests; the reader's default if unset
};

// Parses one line; nullopt for blank and comment lines. Errors name `where` ("line 3").
Result<std::optional<ScriptedTap>> ParseTapLine(std::string_view line, std::string_view where);
// Parses a whole script.
Result<std::vector<ScriptedTap>> ParseTapScript(std::string_view text);

class SimulatedCardReader final : public CardReader {
 public:
  enum class Source { kScript, kFifo };

  SimulatedCardReader(Source source, std::filesystem::path path, const Clock& clock,
                      Millis present_for = Millis(300));
  ~SimulatedCardReader() override;

  std::string Describe() const override;
  Status Open() override;
  Result<std::optional<Idm>> Poll() override;
  void Close() override;

 private:
  struct Pending {
    ScriptedTap tap;
    TimePoint available_at;
  };
  Status ReadFifo();  // moves complete lines that arrived into pending_

  Source source_;
  std::filesystem::path path_;
  const Clock& clock_;
  Millis present_for_;

  bool open_ = false;
  int fifo_fd_ = -1;
  std::string partial_line_;  // FIFO bytes after the last newline
  int lines_read_ = 0;
  std::deque<Pending> pending_;
  std::optional<Idm> presented_;  // the card in the field now
  TimePoint present_until_{};
  int polls_presented_ = 0;
  TimePoint last_removed_at_{};
};

}  // namespace anshin::agent
