#include "reader-agent/feedback.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace anshin::agent {
namespace {

constexpr std::size_t kMaxWaiting = 4;

}  // namespace

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAccepted:
      return "accepted";
    case Outcome::kNotRegistered:
      return "not_registered";
    case Outcome::kReaderError:
      return "reader_error";
    case Outcome::kSeeStaff:
      return "see_staff";
  }
  return "unknown";
}

Result<std::vector<std::string>> SplitCommand(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < command.size()) {
        word += command[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) return Status::InvalidArgument("unterminated quote in command");
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<int> RunCommand(const std::vector<std::string>& argv, Millis timeout) {
  if (argv.empty()) return Status::InvalidArgument("empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The agent blocks SIGTERM/SIGINT in every thread (main waits for them with sigwait); the
  // child must start with a clean mask and default handlers so the timeout kill works.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::Unavailable(argv[0] + ": " + std::strerror(rc));

  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int wstatus = 0;
    pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    if (r < 0 && errno != EINTR)
      return Status::Internal(std::string("waitpid: ") + strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
      }
      return Status::Unavailable(argv[0] + ": killed after " + std::to_string(timeout.count()) +
                                 " ms");
    }
    std::this_thread::sleep_for(Millis(10));
  }
}

Feedback::Feedback(Commands commands, Millis timeout, std::ostream& console)
    : commands_(std::move(commands)), timeout_(timeout), console_(console) {
  worker_ = std::thread([this] { Run(); });
}

Feedback::~Feedback() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Feedback::Signal(Outcome outcome, std::string_view detail) {
  const std::vector<std::string>* command = &commands_.accepted;
  if (outcome == Outcome::kNotRegistered) command = &commands_.not_registered;
  if (outcome == Outcome::kReaderError) command = &commands_.reader_error;
  if (outcome == Outcome::kSeeStaff) command = &commands_.see_staff;
  std::lock_guard lock(mu_);
  console_ << "anshin-agent: " << OutcomeName(outcome);
  if (!detail.empty()) console_ << ": " << detail;
  console_ << std::endl;
  if (command->empty()) return;
  if (queue_.size() >= kMaxWaiting) {
    queue_.pop_front();
    ++finished_;
  }
  queue_.push_back(*command);
  cv_.notify_one();
}

std::uint64_t Feedback::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

void Feedback::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;  // commands still waiting are dropped: nobody is listening
    std::vector<std::string> argv = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    auto result = RunCommand(argv, timeout_);
    if (!result.ok()) {
      spdlog::warn("feedback command failed: {}", result.status().ToString());
    } else if (*result != 0) {
      spdlog::warn("feedback command {} exited with status {}", argv[0], *result);
    }
    lock.lock();
    ++finished_;
  }
}

}  // namespace anshin::agent
