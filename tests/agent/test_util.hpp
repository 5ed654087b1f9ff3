// Small helpers shared by the agent's unit tests: a settable clock, temp dirs, an in-memory
// Uplink fake that records what was sent and can fail on demand.
#pragma once

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "common/wire.hpp"
#include "reader-agent/uplink.hpp"

namespace anshin::agent::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint t = FromUnixMillis(1'764'136'800'000)) : now_(t) {}
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(Millis d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

// A fresh directory under $TMPDIR, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anshin-agent-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

// Records every request; answers from a script of failures, else like a well-behaved server
// that commits everything it is sent.
class FakeUplink final : public Uplink {
 public:
  struct Log {
    int sessions = 0;
    std::vector<wire::TapBatch> batches;
    std::vector<std::uint64_t> allowlist_since;
    std::vector<int> request_session;  // session number of each request, in order
  };

  // Failures for the next POSTs, in order; an ok Status means "answer normally".
  std::deque<Status> post_results;
  std::deque<Status> allowlist_results;
  wire::AllowlistDelta allowlist;  // what GET /v1/allowlist answers

  Log log() const {
    std::lock_guard lock(mu_);
    return log_;
  }

  std::unique_ptr<UplinkSession> Begin() override {
    std::lock_guard lock(mu_);
    return std::make_unique<Session>(*this, ++log_.sessions);
  }

 private:
  class Session final : public UplinkSession {
   public:
    Session(FakeUplink& up, int number) : up_(up), number_(number) {}
    Result<wire::TapAck> PostTaps(const wire::TapBatch& batch) override {
      std::lock_guard lock(up_.mu_);
      up_.log_.request_session.push_back(number_);
      up_.log_.batches.push_back(batch);
      if (!up_.post_results.empty()) {
        Status s = up_.post_results.front();
        up_.post_results.pop_front();
        if (!s.ok()) return s;
      }
      wire::TapAck ack;
      ack.acked_through = batch.taps.empty() ? 0 : batch.taps.back().seq;
      ack.allowlist_version = up_.allowlist.version;
      return ack;
    }
    Result<wire::AllowlistDelta> FetchAllowlist(std::uint64_t since) override {
      std::lock_guard lock(up_.mu_);
      up_.log_.request_session.push_back(number_);
      up_.log_.allowlist_since.push_back(since);
      if (!up_.allowlist_results.empty()) {
        Status s = up_.allowlist_results.front();
        up_.allowlist_results.pop_front();
        if (!s.ok()) return s;
      }
      return up_.allowlist;
    }

   private:
    FakeUplink& up_;
    int number_;
  };

  mutable std::mutex mu_;
  Log log_;
};

inline CardToken Token(char fill) { return CardToken::Parse(std::string(32, fill)).value(); }

}  // namespace anshin::agent::testing
