#include "tests/integration/server_harness.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/time.hpp"
#include "common/types.hpp"

namespace anshin::itest {
namespace {

using namespace std::chrono_literals;

// Runs argv, returns (exit status, stdout+stderr).
std::pair<int, std::string> RunCapture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

size_t CollectBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

// ---- Deployment ------------------------------------------------------------------------------

Deployment::Deployment(const std::string& prefix) : dir_(prefix) {
  Admin({"init", "--server-san", "127.0.0.1"});
}

std::string Deployment::Admin(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {ANSHIN_ADMIN_BIN, "--home", home().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [status, out] = RunCapture(argv);
  if (status != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    throw std::runtime_error("anshin-admin " + cmd + "failed (" + std::to_string(status) +
                             "): " + out);
  }
  return out;
}

void Deployment::AddFacility(const std::string& code) {
  Admin({"facility", "add", "--code", code, "--name", "Facility " + code});
}

AgentFiles Deployment::EnrollAgent(const std::string& facility, const std::string& name) {
  fs::path out = home() / ("agent-" + name);
  Admin({"agent", "enroll", "--facility", facility, "--name", name, "--out", out.string()});
  return AgentFiles{name, out / "agent.crt", out / "agent.key", out / "ca.crt"};
}

std::int64_t Deployment::AddChild(const std::string& facility, const std::string& name) {
  return std::stoll(
      Trim(Admin({"child", "add", "--facility", facility, "--name", name, "--format", "id"})));
}

void Deployment::AssignCard(std::int64_t child, const std::string& idm_hex) {
  Admin({"card", "assign", "--child", std::to_string(child), "--idm", idm_hex});
}

std::int64_t Deployment::AddVerifiedGuardian(std::int64_t child, const std::string& email) {
  std::int64_t id = std::stoll(Trim(Admin(
      {"guardian", "add", "--child", std::to_string(child), "--email", email, "--format", "id"})));
  sqlite3* db = nullptr;
  sqlite3_open_v2(this->db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT verification_code FROM outbox WHERE kind = 'verification' AND "
                     "guardian_id = ? ORDER BY id DESC LIMIT 1",
                     -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, id);
  std::string code;
  if (sqlite3_step(st) == SQLITE_ROW) {
    code = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (code.empty())
    throw std::runtime_error("no verification code for guardian " + std::to_string(id));
  Admin({"guardian", "verify", "--guardian", std::to_string(id), "--code", code});
  return id;
}

fs::path Deployment::WriteServerConfig(const std::string& extra_server_keys) const {
  fs::path path = home() / "itest.toml";
  std::ofstream f(path);
  f << "[server]\n"
       "agents_listen = \"127.0.0.1:0\"\n"
       "public_listen = \"127.0.0.1:0\"\n"
       "database = \"anshin.db\"\n"
       "log_level = \"info\"\n"
       "idle_timeout = \"3s\"\n"
       "request_timeout = \"1s\"\n"
       "handshake_timeout = \"1s\"\n"
    << extra_server_keys
    << "[tls]\n"
       "cert = \"pki/server.crt\"\n"
       "key = \"pki/server.key\"\n"
       "client_ca = \"pki/ca.crt\"\n"
       "[mail]\n"
       "relay = \"smtp://127.0.0.1:9\"\n"  // nobody listens: mails stay queued
       "starttls = \"none\"\n";
  return path;
}

// ---- ServerProcess ---------------------------------------------------------------------------

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
}

void ServerProcess::Start(const fs::path& config, const fs::path& log) {
  fs::path ready = config.parent_path() / "ready.json";
  fs::remove(ready);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    std::string cfg = config.string();
    std::string rf = ready.string();
    execl(ANSHIN_SERVER_BIN, ANSHIN_SERVER_BIN, "--config", cfg.c_str(), "--ready-file", rf.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream l(log);
      std::stringstream ss;
      ss << l.rdbuf();
      throw std::runtime_error("anshin-server exited at start: " + ss.str());
    }
    std::ifstream f(ready);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      auto j = nlohmann::json::parse(ss.str(), nullptr, false);
      if (!j.is_discarded()) {
        agents_port_ = j.at("agents_port").get<std::uint16_t>();
        public_port_ = j.at("public_port").get<std::uint16_t>();
        staff_port_ = j.value("staff_port", std::uint16_t{0});
        return;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  Kill();
  throw std::runtime_error("anshin-server wrote no ready file within 15 s");
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  Kill();
  return -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::agents_url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(agents_port_) + path;
}
std::string ServerProcess::public_url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(public_port_) + path;
}

// ---- HttpClient ------------------------------------------------------------------------------

HttpClient::HttpClient(ClientOptions options) : options_(std::move(options)) {
  static CurlGlobal global;
  curl_ = curl_easy_init();
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  if (!options_.ca.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca.c_str());
  if (options_.identity) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, options_.identity->cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, options_.identity->key.c_str());
  }
  if (options_.fresh_connection) curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  if (options_.tls11_only) {
    curl_easy_setopt(c, CURLOPT_SSLVERSION,
                     static_cast<long>(CURL_SSLVERSION_TLSv1_1) |
                         static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_1));
    curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "DEFAULT@SECLEVEL=0");
  }
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult HttpClient::Get(const std::string& url) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  return Perform();
}

HttpResult HttpClient::Post(const std::string& url, const std::string& body,
                            const std::string& content_type) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  HttpResult r = Perform();
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return r;
}

HttpResult HttpClient::Perform() {
  CURL* c = static_cast<CURL*>(curl_);
  HttpResult r;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  r.curl_code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.error = error;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  return r;
}

// ---- helpers ---------------------------------------------------------------------------------

std::string MakeBatch(const std::string& agent, std::uint64_t first, std::uint64_t last,
                      const std::vector<std::string>& cards,
                      std::chrono::system_clock::time_point at) {
  wire::TapBatch batch;
  batch.agent = agent;
  const TimePoint t = std::chrono::time_point_cast<Millis>(at);
  batch.sent_at = t;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    wire::Tap tap;
    tap.seq = seq;
    tap.card = CardToken::Parse(cards[seq % cards.size()]).value();
    tap.at = t;
    tap.reader = "entrance";
    batch.taps.push_back(std::move(tap));
  }
  return wire::Serialize(batch);
}

std::vector<std::string> FetchAllowlist(HttpClient& client, const ServerProcess& server) {
  HttpResult r = client.Get(server.agents_url("/v1/allowlist?since=0"));
  if (r.curl_code != 0 || r.status != 200) {
    throw std::runtime_error("allowlist: " + std::to_string(r.status) + " " + r.error + r.body);
  }
  Result<wire::AllowlistDelta> delta = wire::ParseAllowlistDelta(r.body);
  if (!delta.ok()) throw std::runtime_error("allowlist: " + delta.status().ToString());
  std::vector<std::string> tokens;
  for (const CardToken& t : delta->added) tokens.push_back(t.hex());
  return tokens;
}

std::int64_t QueryInt(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    throw std::runtime_error("open " + db_path.string());
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("prepare " + sql + ": " + err);
  }
  std::int64_t v = -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (rc != SQLITE_ROW) throw std::runtime_error("no row: " + sql);
  return v;
}

double MetricValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace anshin::itest
