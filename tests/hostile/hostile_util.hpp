// Shared by the hostile-network tests: a deployment with enrolled agents and the real
// anshin-server (tests/integration/server_harness.hpp), a load of legitimate uploads over mutual
// TLS, attacker processes (slowhttptest) and held sockets. Figures go to stdout with a "hostile:"
// prefix so `ctest -V` and the report show them.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/server_harness.hpp"

namespace anshin::hostile {

using namespace std::chrono_literals;
using itest::AgentFiles;
using itest::Deployment;
using itest::HttpClient;
using itest::HttpResult;
using itest::ServerProcess;

// Raises this process's soft RLIMIT_NOFILE to `n` (or the hard limit); children inherit it.
inline void RaiseFileLimit(rlim_t n) {
  rlimit l{};
  getrlimit(RLIMIT_NOFILE, &l);
  if (l.rlim_cur >= n) return;
  l.rlim_cur = l.rlim_max == RLIM_INFINITY ? n : std::min(n, l.rlim_max);
  setrlimit(RLIMIT_NOFILE, &l);
}

// One facility, `agents` enrolled agents h1..hN, four children with cards; the server runs with
// the shipped limits and timeouts (deploy/server.example.toml) unless `server_keys` sets some.
struct Site {
  explicit Site(int agents, const std::string& server_keys = "") {
    dep.AddFacility("F1");
    for (int i = 1; i <= agents; ++i) {
      enrolled.push_back(dep.EnrollAgent("F1", "h" + std::to_string(i)));
    }
    for (int i = 0; i < 4; ++i) {
      std::int64_t child = dep.AddChild("F1", "Child " + std::to_string(i));
      dep.AssignCard(child, "0a0b0c0d0e0f10" + std::string(1, static_cast<char>('a' + i)) + "0");
    }
    const std::filesystem::path config = dep.home() / "hostile.toml";
    std::ofstream(config)
        << "[server]\n"
           "agents_listen = \"127.0.0.1:0\"\n"
           "public_listen = \"127.0.0.1:0\"\n"
           "database = \"anshin.db\"\n"
           "log_level = \"warn\"\n"
        << server_keys
        << "[tls]\n"
           "cert = \"pki/server.crt\"\n"
           "key = \"pki/server.key\"\n"
           "client_ca = \"pki/ca.crt\"\n"
           "[mail]\n"
           "relay = \"smtp://127.0.0.1:9\"\n"  // nobody listens: mail stays queued
           "starttls = \"none\"\n";
    server.Start(config, dep.home() / "server.log");
    HttpClient first({enrolled.front(), dep.ca_cert()});
    cards = itest::FetchAllowlist(first, server);
  }
  // GET /metrics from 127.0.0.2: the attackers use 127.0.0.1 and may hold all of its
  // per-address slots on the public listener.
  std::string Metrics() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000002);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(server.public_port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string response;
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
        connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
      const char kRequest[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      if (send(fd, kRequest, sizeof kRequest - 1, 0) > 0) {
        char buf[8192];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, std::size_t(n));
      }
    }
    close(fd);
    const auto body = response.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : response.substr(body + 4);
  }
  double Metric(const std::string& series) const {
    return std::max(0.0, itest::MetricValue(Metrics(), series));
  }

  Deployment dep{"anshin-hostile"};
  std::vector<AgentFiles> enrolled;
  std::vector<std::string> cards;
  ServerProcess server;
};

struct UploadFigures {
  int attempted = 0;
  int succeeded = 0;
  double max_seconds = 0;
  std::vector<std::string> failures;  // the first few, for the log
  double success_ratio() const { return attempted == 0 ? 0 : double(succeeded) / attempted; }
};

// Every enrolled agent uploads one tap per request on a fresh connection (a new TCP connection
// and TLS handshake each time, as an agent does after a quiet spell), back to back, for `length`.
inline UploadFigures UploadFor(const Site& site, std::chrono::milliseconds length) {
  UploadFigures total;
  std::mutex mu;
  std::vector<std::thread> threads;
  const auto until = std::chrono::steady_clock::now() + length;
  for (const AgentFiles& agent : site.enrolled) {
    threads.emplace_back([&, agent] {
      itest::ClientOptions options{agent, site.dep.ca_cert()};
      options.fresh_connection = true;
      options.timeout_ms = 10'000;
      HttpClient client(options);
      std::uint64_t seq = 0;
      UploadFigures mine;
      while (std::chrono::steady_clock::now() < until) {
        ++seq;
        const auto started = std::chrono::steady_clock::now();
        HttpResult r = client.Post(site.server.agents_url("/v1/taps"),
                                   itest::MakeBatch(agent.name, seq, seq, site.cards));
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        ++mine.attempted;
        mine.max_seconds = std::max(mine.max_seconds, seconds);
        if (r.curl_code == 0 && r.status == 200) {
          ++mine.succeeded;
        } else if (mine.failures.size() < 3) {
          mine.failures.push_back(std::to_string(r.status) + " " + r.error);
        }
        std::this_thread::sleep_for(20ms);
      }
      std::lock_guard lock(mu);
      total.attempted += mine.attempted;
      total.succeeded += mine.succeeded;
      total.max_seconds = std::max(total.max_seconds, mine.max_seconds);
      for (auto& f : mine.failures) total.failures.push_back(std::move(f));
    });
  }
  for (auto& t : threads) t.join();
  return total;
}

// A child process (an attack tool), stopped with SIGTERM when the object goes.
class Process {
 public:
  explicit Process(std::vector<std::string> argv, const std::filesystem::path& log) {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  bool running() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && running(); ++i) std::this_thread::sleep_for(20ms);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

// Holds `count` TCP connections to a port that never send a byte, re-opening every one the
// server closes (a patient attacker keeps its connections up), until stopped.
class HeldConnections {
 public:
  HeldConnections(std::uint16_t port, int count) : port_(port), fds_(count, -1) {
    for (int& fd : fds_) fd = Connect();
    thread_ = std::thread([this] { Keep(); });
  }
  ~HeldConnections() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  int reopened() const { return reopened_; }
  int held() const {
    return static_cast<int>(
        std::count_if(fds_.begin(), fds_.end(), [](int fd) { return fd >= 0; }));
  }

 private:
  int Connect() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }
  // Every 200 ms: re-open what the server closed.
  void Keep() {
    std::vector<pollfd> polls(fds_.size());
    while (!stop_) {
      for (std::size_t i = 0; i < fds_.size(); ++i) polls[i] = {fds_[i], POLLIN, 0};
      poll(polls.data(), polls.size(), 0);
      for (std::size_t i = 0; i < fds_.size() && !stop_; ++i) {
        if (fds_[i] < 0 || (polls[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          if (fds_[i] >= 0) close(fds_[i]);
          fds_[i] = Connect();
          ++reopened_;
        }
      }
      std::this_thread::sleep_for(200ms);
    }
  }

  const std::uint16_t port_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<int> reopened_{0};
  std::thread thread_;
};

inline void Report(const std::string& scenario, const UploadFigures& f, const Site& site,
                   const std::string& extra = "") {
  const std::string metrics = site.Metrics();
  auto value = [&](const std::string& series) {
    return std::max(0.0, itest::MetricValue(metrics, series));
  };
  std::printf(
      "hostile: %s: uploads %d/%d succeeded (%.2f %%), slowest %.3f s; server: %.0f open, "
      "refused agents/public %.0f/%.0f (per_address %.0f), evicted agents/public %.0f/%.0f, "
      "TLS handshake failures %.0f%s\n",
      scenario.c_str(), f.succeeded, f.attempted, 100.0 * f.success_ratio(), f.max_seconds,
      value("anshin_http_connections"),
      value("anshin_http_listener_refused_total{listener=\"agents\",reason=\"full\"}"),
      value("anshin_http_listener_refused_total{listener=\"public\",reason=\"full\"}"),
      value("anshin_http_listener_refused_total{listener=\"public\",reason=\"per_address\"}"),
      value("anshin_http_listener_evicted_total{listener=\"agents\"}"),
      value("anshin_http_listener_evicted_total{listener=\"public\"}"),
      value("anshin_tls_handshake_failures_total"), extra.c_str());
  for (const auto& failure : f.failures)
    std::printf("hostile:   failed upload: %s\n", failure.c_str());
  std::fflush(stdout);
}

}  // namespace anshin::hostile
