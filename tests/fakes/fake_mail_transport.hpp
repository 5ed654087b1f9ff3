// FakeMailTransport: a MailTransport that records every message handed to it and answers as
// the test scripts it: all accepted by default; a recipient can be refused (4xx or 5xx) a given
// number of times, the Nth Send() call can fail as a whole (relay down), and a call can lose
// outcomes (return fewer than it was given: a broken transport). Thread-safe: the
// mailer's sender thread sends while the test inspects.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "notify-server/mail/mail_transport.hpp"

namespace anshin::fakes {

class FakeMailTransport final : public server::mail::MailTransport {
 public:
  using Kind = server::mail::SendOutcome::Kind;

  std::vector<server::mail::SendOutcome> Send(
      std::span<const server::mail::OutgoingMail> mails,
      const server::mail::OutcomeListener& on_outcome) override {
    std::unique_lock lock(mu_);
    ++calls_;
    std::vector<server::mail::SendOutcome> out;
    const bool relay_down = down_calls_.count(calls_) > 0 || down_;
    for (const auto& m : mails) {
      server::mail::SendOutcome o{
          m.id, Kind::kSent, 250,
          "250 2.0.0 Ok: queued as FAKE" + std::to_string(accepted_.size())};
      if (relay_down) {
        o = {m.id, Kind::kTemporary, 0, "Couldn't connect to server"};
      } else if (auto it = rules_.find(m.to); it != rules_.end() && it->second.times != 0) {
        if (it->second.times > 0) --it->second.times;
        o = {m.id, it->second.kind, it->second.code,
             std::to_string(it->second.code) + " scripted refusal"};
      }
      attempts_.push_back(m);
      if (o.kind == Kind::kSent) accepted_.push_back(m);
      out.push_back(o);
    }
    if (auto it = keep_outcomes_.find(calls_);
        it != keep_outcomes_.end() && it->second < out.size())
      out.resize(it->second);
    // Told one by one, as a relay answers; a paused transport holds after `pause_after_` of
    // them until Resume() (the test looks at what was recorded meanwhile).
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (pause_after_ && i == *pause_after_) {
        paused_ = true;
        resumed_.wait(lock, [this] { return !paused_; });
      }
      lock.unlock();
      if (on_outcome) on_outcome(i, out[i]);
      lock.lock();
    }
    return out;
  }

  // The next Send() holds after telling `n` outcomes, until Resume().
  void PauseAfter(std::size_t n) {
    std::lock_guard lock(mu_);
    pause_after_ = n;
  }
  bool paused() const {
    std::lock_guard lock(mu_);
    return paused_;
  }
  void Resume() {
    {
      std::lock_guard lock(mu_);
      paused_ = false;
      pause_after_.reset();
    }
    resumed_.notify_all();
  }

  // The `n`th call to Send() returns only the first `keep` outcomes (the messages were handed
  // to the relay all the same).
  void LoseOutcomes(int n, std::size_t keep) {
    std::lock_guard lock(mu_);
    keep_outcomes_[n] = keep;
  }

  // `to` is refused with `code` (4xx: kTemporary, 5xx: kPermanent) `times` times (-1: always).
  void Refuse(const std::string& to, int code, int times) {
    std::lock_guard lock(mu_);
    rules_[to] = Rule{code >= 500 ? Kind::kPermanent : Kind::kTemporary, code, times};
  }
  // The `n`th call to Send() (1-based) fails for every message, as if the relay were down.
  void FailCall(int n) {
    std::lock_guard lock(mu_);
    down_calls_[n] = true;
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }

  std::vector<server::mail::OutgoingMail> accepted() const {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::vector<server::mail::OutgoingMail> attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  struct Rule {
    Kind kind;
    int code;
    int times;
  };
  mutable std::mutex mu_;
  std::condition_variable resumed_;
  std::optional<std::size_t> pause_after_;
  bool paused_ = false;
  std::map<std::string, Rule> rules_;
  std::map<int, bool> down_calls_;
  std::map<int, std::size_t> keep_outcomes_;
  bool down_ = false;
  int calls_ = 0;
  std::vector<server::mail::OutgoingMail> attempts_;
  std::vector<server::mail::OutgoingMail> accepted_;
};

}  // namespace anshin::fakes
