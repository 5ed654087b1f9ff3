#include "reader-agent/agent_store.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::TempDir;
using testing::Token;

std::unique_ptr<AgentStore> OpenStore(const TempDir& dir) {
  auto store = AgentStore::Open(dir.path() / "agent.db");
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::uint64_t Append(AgentStore& s, char card, std::int64_t at_ms = 1000) {
  auto seq = s.AppendTap(Token(card), FromUnixMillis(at_ms), "entrance", Direction::kAuto);
  REQUIRE(seq.ok());
  return *seq;
}

}  // namespace

TEST_CASE("taps get increasing seq and come back in order", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  CHECK(Append(*s, 'a', 1000) == 1);
  CHECK(Append(*s, 'b', 2000) == 2);
  CHECK(s->AppendTap(Token('c'), FromUnixMillis(3000), "exit-door", Direction::kExit).value() == 3);
  auto taps = s->PendingTaps(10).value();
  REQUIRE(taps.size() == 3);
  CHECK(taps[0].seq == 1);
  CHECK(taps[0].card == Token('a'));
  CHECK(taps[0].at == FromUnixMillis(1000));
  CHECK(taps[2].reader == "exit-door");
  CHECK(taps[2].direction == Direction::kExit);
  CHECK(s->PendingTaps(2).value().size() == 2);
  auto q = s->Queue().value();
  CHECK(q.depth == 3);
  CHECK(q.oldest_at == FromUnixMillis(1000));
  CHECK(q.first_seq == 1u);
}

TEST_CASE("seq survives reopening and is never reused after deletion", "[store]") {
  TempDir dir;
  {
    auto s = OpenStore(dir);
    for (int i = 0; i < 5; ++i) Append(*s, 'a');
    CHECK(s->DeleteThrough(5).value() == 5);
    CHECK(s->Queue().value().depth == 0);
  }
  auto s = OpenStore(dir);
  CHECK(Append(*s, 'b') == 6);
  CHECK(s->LastSeq().value() == 6);
}

TEST_CASE("an ack deletes exactly the acknowledged taps", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  for (int i = 0; i < 10; ++i) Append(*s, 'a');
  CHECK(s->DeleteThrough(0).value() == 0);
  CHECK(s->DeleteThrough(4).value() == 4);
  auto taps = s->PendingTaps(100).value();
  REQUIRE(taps.size() == 6);
  CHECK(taps.front().seq == 5);
  CHECK(taps.back().seq == 10);
  CHECK(s->DeleteThrough(4).value() == 0);  // a repeated ack changes nothing
  CHECK(s->DeleteThrough(100).value() == 6);
}

TEST_CASE("committed taps survive a kill -9 of the process", "[store]") {
  TempDir dir;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto store = AgentStore::Open(dir.path() / "agent.db");
    if (!store.ok()) ::_exit(3);
    for (int i = 0; i < 50; ++i) {
      auto seq = (*store)->AppendTap(Token('d'), FromUnixMillis(i), "entrance", Direction::kAuto);
      if (!seq.ok()) ::_exit(4);
      std::uint64_t v = *seq;
      if (::write(fds[1], &v, sizeof v) != sizeof v) ::_exit(5);
    }
    ::kill(::getpid(), SIGKILL);  // no close, no checkpoint
    ::_exit(6);
  }
  ::close(fds[1]);
  std::vector<std::uint64_t> reported;
  std::uint64_t v;
  while (::read(fds[0], &v, sizeof v) == sizeof v) reported.push_back(v);
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  REQUIRE(WIFSIGNALED(wstatus));
  REQUIRE(reported.size() == 50);

  auto s = OpenStore(dir);
  auto taps = s->PendingTaps(1000).value();
  REQUIRE(taps.size() == reported.size());
  for (std::size_t i = 0; i < taps.size(); ++i) CHECK(taps[i].seq == reported[i]);
  CHECK(Append(*s, 'e') == 51);
}

TEST_CASE("the allowlist is stored with its version, deltas and full lists apply", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  auto empty = s->LoadAllowlist().value();
  CHECK_FALSE(empty.fetched);
  CHECK(empty.version == 0);

  wire::AllowlistDelta full{.version = 3, .full = true, .added = {Token('a'), Token('b')}};
  REQUIRE(s->ApplyAllowlist(full, FromUnixMillis(5)).ok());
  wire::AllowlistDelta delta{
      .version = 4, .full = false, .added = {Token('c')}, .removed = {Token('a')}};
  REQUIRE(s->ApplyAllowlist(delta, FromUnixMillis(6)).ok());
  s.reset();
  s = OpenStore(dir);
  auto list = s->LoadAllowlist().value();
  CHECK(list.fetched);
  CHECK(list.version == 4);
  CHECK(list.tokens == std::vector<CardToken>{Token('b'), Token('c')});

  wire::AllowlistDelta replace{.version = 9, .full = true, .added = {Token('f')}};
  REQUIRE(s->ApplyAllowlist(replace, FromUnixMillis(7)).ok());
  CHECK(s->LoadAllowlist().value().tokens == std::vector<CardToken>{Token('f')});
}

TEST_CASE("health values and counters persist", "[store]") {
  TempDir dir;
  {
    auto s = OpenStore(dir);
    REQUIRE(s->SetText(meta::kReaderState, "error").ok());
    CHECK(s->Increment(meta::kUnknownTaps).value() == 1);
    CHECK(s->Increment(meta::kUnknownTaps).value() == 2);
    CHECK(s->Increment("new_counter").value() == 1);
  }
  auto s = OpenStore(dir);
  CHECK(s->GetText(meta::kReaderState).value() == std::optional<std::string>("error"));
  CHECK(s->GetInt(meta::kUnknownTaps).value() == std::optional<std::int64_t>(2));
  CHECK(s->GetText("absent").value() == std::nullopt);
}

TEST_CASE("opening an existing database that is absent fails with SQLite's message", "[store]") {
  TempDir dir;
  auto s = AgentStore::Open(dir.path() / "missing.db", AgentStore::Mode::kExisting);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.status().message(), Catch::Contains("unable to open database"));
}

TEST_CASE("a queued tap with a direction the agent never writes is refused, not sent as auto",
          "[store]") {
  // Defect: a bad stored direction was turned into `auto` without a word.
  TempDir dir;
  auto s = OpenStore(dir);
  Append(*s, 'a');
  Append(*s, 'b');
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir.path() / "agent.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE taps SET direction = 'sideways' WHERE seq = 2", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto taps = s->PendingTaps(10);
  REQUIRE_FALSE(taps.ok());
  CHECK(taps.status().code() == Status::Code::kInternal);
  CHECK_THAT(taps.status().message(), Catch::Contains("seq 2"));
  CHECK_THAT(taps.status().message(), Catch::Contains("sideways"));
}

TEST_CASE("a busy agent.db is Unavailable (retry), as on the server", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir.path() / "agent.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto seq = s->AppendTap(Token('a'), FromUnixMillis(1000), "entrance", Direction::kAuto);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE_FALSE(seq.ok());
  CHECK(seq.status().code() == Status::Code::kUnavailable);
  CHECK(Append(*s, 'a') == 1);  // nothing was half-written
}

TEST_CASE("agent.db is created 0600 whatever the umask", "[store]") {
  TempDir dir;
  const mode_t old = ::umask(0);
  auto s = OpenStore(dir);
  ::umask(old);
  Append(*s, 'a');
  for (const char* name : {"agent.db", "agent.db-wal", "agent.db-shm"}) {
    struct stat st {};
    REQUIRE(::stat((dir.path() / name).c_str(), &st) == 0);
    INFO(name);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

}  // namespace anshin::agent
