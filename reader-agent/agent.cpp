#include "reader-agent/agent.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#ifndef ANSHIN_VERSION
#define ANSHIN_VERSION "0.0.0"
#endif

namespace anshin::agent {
namespace {

Result<Feedback::Commands> FeedbackCommands(const AgentConfig& c) {
  Feedback::Commands commands;
  auto split = [](std::string_view key, const std::string& text,
                  std::vector<std::string>& out) -> Status {
    auto argv = SplitCommand(text);
    if (!argv.ok())
      return Status::InvalidArgument(std::string(key) + ": " + argv.status().message());
    out = std::move(*argv);
    return Status::Ok();
  };
  ANSHIN_RETURN_IF_ERROR(split("feedback.accepted", c.accepted_command, commands.accepted));
  ANSHIN_RETURN_IF_ERROR(
      split("feedback.not_registered", c.not_registered_command, commands.not_registered));
  ANSHIN_RETURN_IF_ERROR(
      split("feedback.reader_error", c.reader_error_command, commands.reader_error));
  ANSHIN_RETURN_IF_ERROR(split("feedback.see_staff", c.see_staff_command, commands.see_staff));
  return commands;
}

Uplinker::Options UplinkerOptions(const AgentConfig& c) {
  Uplinker::Options o;
  o.agent_name = c.name;
  o.batch_size = static_cast<std::size_t>(c.batch_size);
  o.backoff_min = c.backoff_min;
  o.backoff_max = c.backoff_max;
  o.heartbeat = c.heartbeat;
  o.agent_version = std::string(AgentVersion());
  o.unknown_card_refresh = c.unknown_card_refresh;
  return o;
}

ReaderSupervisor::Options SupervisorOptions(const AgentConfig& c) {
  ReaderSupervisor::Options o;
  o.poll_interval = c.poll_interval;
  o.debounce = c.debounce;
  return o;
}

}  // namespace

std::string_view AgentVersion() { return ANSHIN_VERSION; }

Result<std::unique_ptr<Agent>> Agent::Create(AgentConfig config, std::unique_ptr<CardReader> reader,
                                             std::unique_ptr<Uplink> uplink, const Clock& clock,
                                             std::ostream& console) {
  if (!config.card_key) return Status::InvalidArgument("agent.card_key: required");
  ANSHIN_RETURN_IF_ERROR(FeedbackCommands(config).status());
  auto dir = config.database.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
  }
  ANSHIN_ASSIGN_OR_RETURN(auto store, AgentStore::Open(config.database));
  std::unique_ptr<Agent> agent(new Agent(std::move(config), std::move(reader), std::move(uplink),
                                         std::move(store), clock, console));
  ANSHIN_RETURN_IF_ERROR(agent->uplinker_.Init());
  return agent;
}

Agent::Agent(AgentConfig config, std::unique_ptr<CardReader> reader, std::unique_ptr<Uplink> uplink,
             std::unique_ptr<AgentStore> store, const Clock& clock, std::ostream& console)
    : config_(std::move(config)),
      card_key_(*config_.card_key),
      clock_(clock),
      reader_(std::move(reader)),
      uplink_(std::move(uplink)),
      store_(std::move(store)),
      feedback_(FeedbackCommands(config_).value(), config_.feedback_timeout, console),
      uplinker_(*store_, *uplink_, allowlist_, clock_, UplinkerOptions(config_),
                [this](wire::Health& h) {
                  std::lock_guard lock(reader_mu_);
                  h.reader_state = std::string(ReaderStateName(reader_state_));
                  h.reader_error = reader_error_;
                }),
      supervisor_(
          *reader_, SupervisorOptions(config_),
          [this](const Idm& idm, std::chrono::steady_clock::time_point t) { OnTap(idm, t); },
          [this](ReaderState s, const std::string& e) { OnReaderState(s, e); }) {}

Agent::~Agent() { Stop(); }

void Agent::Start() {
  if (started_) return;
  started_ = true;
  (void)store_->SetInt(meta::kAgentPid, ::getpid());
  (void)store_->SetInt(meta::kAgentStartedAt, ToUnixMillis(clock_.Now()));
  (void)store_->SetText(meta::kReaderDevice, reader_->Describe());
  OnReaderState(ReaderState::kStarting, "");
  if (!allowlist_.fetched()) spdlog::info("no allowlist yet: fetching it from the server");
  spdlog::info("agent {} started; reader {}, server {}", config_.name, reader_->Describe(),
               config_.server_url);
  uplink_thread_ = std::thread([this] { uplinker_.Run(stop_); });
  reader_thread_ = std::thread([this] { supervisor_.Run(stop_); });
}

void Agent::Stop() {
  if (!started_) return;
  started_ = false;
  stop_.Stop();
  uplinker_.Stop();
  reader_thread_.join();
  uplink_thread_.join();
  (void)store_->SetText(meta::kReaderState, "stopped");
  (void)store_->SetInt(meta::kAgentPid, 0);
  spdlog::info("agent stopped");
}

void Agent::OnTap(const Idm& idm, std::chrono::steady_clock::time_point seen_at) {
  TimePoint at = clock_.Now();
  CardToken token = card_key_.TokenOf(idm);  // from here on only the token exists
  AllowlistCache::Card listed = allowlist_.Lookup(token);
  if (listed == AllowlistCache::Card::kUnknown && RegisteredSinceLastRefresh(token)) {
    listed = allowlist_.Lookup(token);
  }
  if (listed == AllowlistCache::Card::kUnknown) {
    auto unknown = store_->Increment(meta::kUnknownTaps);
    spdlog::info("tap of a card not in the allowlist (unknown taps so far: {})",
                 unknown.ok() ? std::to_string(*unknown) : "?");
    feedback_.Signal(Outcome::kNotRegistered, "card not registered");
    return;
  }
  auto seq = store_->AppendTap(token, at, config_.reader_name, config_.direction);
  if (!seq.ok()) {
    spdlog::error("could not save a tap: {}", seq.status().message());
    (void)store_->SetText(meta::kLastError, "saving a tap: " + seq.status().message());
    (void)store_->SetInt(meta::kLastErrorAt, ToUnixMillis(at));
    feedback_.Signal(Outcome::kReaderError, "tap not saved, please tap again");
    return;
  }
  auto latency =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - seen_at);
  if (listed == AllowlistCache::Card::kLost) {
    // Still uploaded: the server raises the "lost card seen" alert for the staff.
    feedback_.Signal(Outcome::kSeeStaff, "tap #" + std::to_string(*seq) +
                                             " saved; this card is reported lost, "
                                             "please see staff");
  } else {
    feedback_.Signal(Outcome::kAccepted, "tap #" + std::to_string(*seq) + " saved");
  }
  spdlog::info("tap #{} queued (card {}), durable {:.3f} ms after the card was seen", *seq,
               token.hex().substr(0, 8), latency.count());
  uplinker_.Notify();
}

bool Agent::RegisteredSinceLastRefresh(const CardToken& token) {
  auto refreshed = uplinker_.RefreshForUnknownCard();
  if (!refreshed.ok()) {
    const std::string message =
        "allowlist refresh for an unknown card: " + refreshed.status().message();
    spdlog::warn("card not in the allowlist; {}", message);
    (void)store_->SetText(meta::kLastError, message);
    (void)store_->SetInt(meta::kLastErrorAt, ToUnixMillis(clock_.Now()));
    return false;
  }
  if (!*refreshed) return false;  // refreshed recently enough (or disabled)
  bool registered = allowlist_.Contains(token);
  spdlog::info("tap of a card not in the allowlist: allowlist refreshed (version {}), card {}",
               allowlist_.version(), registered ? "registered now" : "still unknown");
  return registered;
}

void Agent::OnReaderState(ReaderState state, const std::string& error) {
  {
    std::lock_guard lock(reader_mu_);
    reader_state_ = state;
    reader_error_ = error;
  }
  (void)store_->SetText(meta::kReaderState, std::string(ReaderStateName(state)));
  (void)store_->SetText(meta::kReaderError, error);
  if (state == ReaderState::kError) {
    (void)store_->SetText(meta::kLastError, "reader: " + error);
    (void)store_->SetInt(meta::kLastErrorAt, ToUnixMillis(clock_.Now()));
    feedback_.Signal(Outcome::kReaderError, error);
  }
}

}  // namespace anshin::agent
