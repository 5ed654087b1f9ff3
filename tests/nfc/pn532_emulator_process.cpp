#include "tests/nfc/pn532_emulator_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#ifndef ANSHIN_PN532_EMULATOR_SCRIPT
#error "ANSHIN_PN532_EMULATOR_SCRIPT must name tests/nfc/pn532_emulator.py"
#endif

namespace anshin::testing {
namespace {

constexpr const char* kPython = "/usr/bin/python3";
constexpr auto kControlTimeout = std::chrono::seconds(5);

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// Reads from `fd` until `stop` is found or EOF / timeout. Returns what was read.
Result<std::string> ReadUntil(int fd, char stop, std::chrono::milliseconds timeout) {
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (data.find(stop) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Unavailable("timed out waiting for the emulator");
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::Internal(ErrnoText("poll"));
    if (r == 0) continue;
    char buf[512];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(ErrnoText("read"));
    if (n == 0) break;  // EOF
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

void WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

void DisableLibnfcAutoScan() {
  setenv("LIBNFC_AUTO_SCAN", "false", 1);
  setenv("LIBNFC_INTRUSIVE_SCAN", "false", 1);
}

Pn532EmulatorProcess::Pn532EmulatorProcess(std::filesystem::path dir)
    : dir_(std::move(dir)),
      link_(dir_ / "reader"),
      control_(dir_ / "control"),
      log_(dir_ / "frames.log") {}

Pn532EmulatorProcess::~Pn532EmulatorProcess() { Kill(); }

Status Pn532EmulatorProcess::Start(std::chrono::milliseconds timeout) {
  if (running()) return Status::FailedPrecondition("the PN532 emulator is already running");
  if (control_.string().size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Status::InvalidArgument("emulator directory path too long for a UNIX socket: " +
                                   dir_.string());
  }
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Status::Internal(ErrnoText("pipe2"));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Status::Internal(ErrnoText("pipe2"));
  }
  std::vector<std::string> args = {kPython,
                                   ANSHIN_PN532_EMULATOR_SCRIPT,
                                   "--link",
                                   link_.string(),
                                   "--control",
                                   control_.string(),
                                   "--log",
                                   log_.string(),
                                   "--exit-on-stdin-eof"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    const Status s = Status::Internal(ErrnoText("fork"));
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return s;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  pid_ = pid;
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];

  auto line = ReadUntil(stdout_fd_, '\n', timeout);
  if (!line.ok() || line->rfind("ready ", 0) != 0) {
    const std::string got = line.ok() ? *line : line.status().message();
    Kill();
    return Status::Unavailable("PN532 emulator did not become ready: " +
                               (got.empty() ? std::string("it exited") : got));
  }
  return Status::Ok();
}

void Pn532EmulatorProcess::Kill() {
  if (pid_ > 0) {
    // The device node goes first, as /dev/ttyUSB0 does on unplug: nobody can open the pty
    // any more, and once it is freed its number cannot be reached through our stale link.
    std::error_code ec;
    std::filesystem::remove(link_, ec);
    kill(pid_, SIGKILL);
    WaitFor(pid_);
    pid_ = -1;
  }
  ClosePipes();
}

void Pn532EmulatorProcess::Stop() {
  if (pid_ > 0 && Command("quit").ok()) {
    // The child closes its stdout when it exits.
    (void)ReadUntil(stdout_fd_, '\0', kControlTimeout);
  }
  Kill();
}

void Pn532EmulatorProcess::ClosePipes() {
  for (int* fd : {&stdin_fd_, &stdout_fd_}) {
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
  }
}

Result<std::string> Pn532EmulatorProcess::Command(const std::string& line) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal(ErrnoText("socket"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, control_.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const Status s = Status::Unavailable(ErrnoText("connecting to " + control_.string()));
    close(fd);
    return s;
  }
  const std::string msg = line + "\n";
  size_t sent = 0;
  while (sent < msg.size()) {
    const ssize_t n = send(fd, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const Status s = Status::Unavailable(ErrnoText("sending to the emulator"));
      close(fd);
      return s;
    }
    sent += static_cast<size_t>(n);
  }
  auto reply = ReadUntil(fd, '\n', kControlTimeout);
  close(fd);
  if (!reply.ok()) return reply.status();
  std::string text = reply->substr(0, reply->find('\n'));
  if (text.rfind("ok", 0) != 0) {
    return Status::FailedPrecondition("emulator: " + line + ": " +
                                      (text.empty() ? std::string("no reply") : text));
  }
  text.erase(0, 2);
  if (!text.empty() && text.front() == ' ') text.erase(0, 1);
  return text;
}

Status Pn532EmulatorProcess::Present(const std::string& idm_hex, const std::string& options) {
  auto r = Command("present " + idm_hex + (options.empty() ? "" : " " + options));
  return r.ok() ? Status::Ok() : r.status();
}

Status Pn532EmulatorProcess::Remove() {
  auto r = Command("remove");
  return r.ok() ? Status::Ok() : r.status();
}

Status Pn532EmulatorProcess::Mute(bool on) {
  auto r = Command(on ? "mute on" : "mute off");
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::map<std::string, std::string>> Pn532EmulatorProcess::QueryStatus() {
  ANSHIN_ASSIGN_OR_RETURN(std::string text, Command("status"));
  std::map<std::string, std::string> out;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return out;
}

std::string Pn532EmulatorProcess::FrameLog() const {
  std::ifstream in(log_);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace anshin::testing
