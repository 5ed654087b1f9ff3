// docs/configuration.md documents exactly the keys the programs accept: the keys of its
// server.toml tables are ServerConfigKeys() + MailConfigKeys(), those of its agent.toml tables
// AgentConfigKeys(); each row gives a type, a default and a meaning.
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "notify-server/http/server_config.hpp"
#include "notify-server/mail/mail_config.hpp"
#include "reader-agent/agent_config.hpp"

namespace anshin {
namespace {

struct DocumentedKey {
  std::string file;  // "server.toml" or "agent.toml": the "## `...`" section it is under
  std::vector<std::string> cells;
  int line = 0;
};

std::string Trim(const std::string& s) {
  const std::size_t begin = s.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(' ') - begin + 1);
}

// "| a | b |" -> {"a", "b"}.
std::vector<std::string> SplitRow(const std::string& row) {
  std::vector<std::string> cells;
  std::size_t start = 1;
  for (std::size_t bar = row.find('|', start); bar != std::string::npos;
       bar = row.find('|', start)) {
    cells.push_back(Trim(row.substr(start, bar - start)));
    start = bar + 1;
  }
  return cells;
}

// Every table row whose first cell is a backquoted key, by key.
std::multimap<std::string, DocumentedKey> ReadDocumentedKeys(std::istream& in) {
  std::multimap<std::string, DocumentedKey> out;
  std::string line, file;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.starts_with("## ")) {
      file = line.find("server.toml") != std::string::npos  ? "server.toml"
             : line.find("agent.toml") != std::string::npos ? "agent.toml"
                                                            : "";
      continue;
    }
    if (!line.starts_with("| `")) continue;
    const std::vector<std::string> cells = SplitRow(line);
    const std::string& first = cells.at(0);
    if (first.size() < 3 || first.back() != '`') continue;
    out.emplace(first.substr(1, first.size() - 2), DocumentedKey{file, cells, number});
  }
  return out;
}

std::set<std::string> Keys(std::span<const std::string_view> a,
                           std::span<const std::string_view> b = {}) {
  std::set<std::string> out;
  for (auto k : a) out.emplace(k);
  for (auto k : b) out.emplace(k);
  return out;
}

std::set<std::string> Documented(const std::multimap<std::string, DocumentedKey>& doc,
                                 const std::string& file) {
  std::set<std::string> out;
  for (const auto& [key, row] : doc) {
    if (row.file == file) out.insert(key);
  }
  return out;
}

std::string Missing(const std::set<std::string>& want, const std::set<std::string>& have) {
  std::string out;
  for (const auto& k : want) {
    if (!have.contains(k)) out += " " + k;
  }
  return out;
}

std::multimap<std::string, DocumentedKey> LoadDoc() {
  std::ifstream in(ANSHIN_DOCS_DIR "/configuration.md");
  REQUIRE(in.good());
  return ReadDocumentedKeys(in);
}

TEST_CASE("docs/configuration.md documents every server.toml key and no other",
          "[ops][config][docs]") {
  const auto doc = LoadDoc();
  const auto code = Keys(server::ServerConfigKeys(), server::mail::MailConfigKeys());
  const auto documented = Documented(doc, "server.toml");
  INFO("in the code, not in docs/configuration.md:" << Missing(code, documented));
  INFO("in docs/configuration.md, not in the code:" << Missing(documented, code));
  CHECK(documented == code);
}

TEST_CASE("docs/configuration.md documents every agent.toml key and no other",
          "[ops][config][docs]") {
  const auto doc = LoadDoc();
  const auto code = Keys(agent::AgentConfigKeys());
  const auto documented = Documented(doc, "agent.toml");
  INFO("in the code, not in docs/configuration.md:" << Missing(code, documented));
  INFO("in docs/configuration.md, not in the code:" << Missing(documented, code));
  CHECK(documented == code);
}

TEST_CASE("each documented key has one row with a type, a default and a meaning",
          "[ops][config][docs]") {
  const auto doc = LoadDoc();
  REQUIRE(doc.size() > 40);
  static const std::vector<std::string> kTypes = {"string",   "integer", "boolean",
                                                  "duration", "path",    "address"};
  for (const auto& [key, row] : doc) {
    INFO("docs/configuration.md:" << row.line << " " << key);
    CHECK(doc.count(key) == 1);
    CHECK_FALSE(row.file.empty());
    REQUIRE(row.cells.size() == 4);
    bool typed = false;
    for (const auto& t : kTypes) typed = typed || row.cells[1].starts_with(t);
    CHECK(typed);
    CHECK_FALSE(row.cells[2].empty());
    CHECK(row.cells[3].size() > 10);
  }
}

TEST_CASE("the documentation reader finds rows and tells the files apart", "[ops][config][docs]") {
  std::istringstream text(
      "## `server.toml`\n| key | type | default | meaning |\n|---|---|---|---|\n"
      "| `server.workers` | integer | `2` | worker threads |\n## `agent.toml`\n"
      "| `log.level` | string | `\"info\"` | lowest level |\n## Other\n| `x.y` | a | b | c |\n");
  const auto doc = ReadDocumentedKeys(text);
  REQUIRE(doc.size() == 3);
  CHECK(doc.find("server.workers")->second.file == "server.toml");
  CHECK(doc.find("server.workers")->second.cells[2] == "`2`");
  CHECK(doc.find("log.level")->second.file == "agent.toml");
  CHECK(doc.find("x.y")->second.file.empty());
  CHECK(Documented(doc, "server.toml") == std::set<std::string>{"server.workers"});
}

// The keys an example file shows, "table.key", a commented-out "# key = ..." line included.
std::set<std::string> ShownKeys(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line, table;
  while (std::getline(in, line)) {
    if (line.starts_with("[")) {
      table = line.substr(1, line.find(']') - 1);
      continue;
    }
    std::string_view l = line;
    if (l.starts_with("# ")) l.remove_prefix(2);
    const std::size_t eq = l.find(" = ");
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view key = l.substr(0, eq);
    bool bare = true;
    for (char c : key) bare = bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (bare) out.insert(table + "." + std::string(key));
  }
  return out;
}

std::string ReadDeployFile(const std::string& name) {
  std::ifstream in(std::string(ANSHIN_DEPLOY_DIR) + "/" + name);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("deploy/server.example.toml shows every server.toml key and the server accepts it",
          "[ops][config][docs]") {
  const std::string text = ReadDeployFile("server.example.toml");
  const auto code = Keys(server::ServerConfigKeys(), server::mail::MailConfigKeys());
  const auto shown = ShownKeys(text);
  INFO("in the code, not in the example:" << Missing(code, shown));
  INFO("in the example, not in the code:" << Missing(shown, code));
  CHECK(shown == code);
  auto config = sys::Config::Parse(text, "server.example.toml");
  REQUIRE(config.ok());
  std::vector<std::string_view> known = server::ServerConfigKeys();
  known.insert(known.end(), server::mail::MailConfigKeys().begin(),
               server::mail::MailConfigKeys().end());
  CHECK(config->UnknownKeys(known).empty());
  auto loaded = server::LoadServerConfig(*config);
  INFO((loaded.ok() ? "" : loaded.status().message()));
  CHECK(loaded.ok());
  auto mail = server::mail::LoadMailConfig(*config);
  INFO((mail.ok() ? "" : mail.status().message()));
  CHECK(mail.ok());
}

TEST_CASE("deploy/agent.example.toml shows every agent.toml key", "[ops][config][docs]") {
  const std::string text = ReadDeployFile("agent.example.toml");
  const auto code = Keys(agent::AgentConfigKeys());
  const auto shown = ShownKeys(text);
  INFO("in the code, not in the example:" << Missing(code, shown));
  INFO("in the example, not in the code:" << Missing(shown, code));
  CHECK(shown == code);
  auto config = sys::Config::Parse(text, "agent.example.toml");
  REQUIRE(config.ok());
  CHECK(config->UnknownKeys(agent::AgentConfigKeys()).empty());
}

TEST_CASE("the example reader finds shown and commented keys per table", "[ops][config][docs]") {
  CHECK(ShownKeys("[a]\nx = 1\n# y = \"z\"   # why\n# A comment = not a key\n[b]\nw = 2\n") ==
        std::set<std::string>{"a.x", "a.y", "b.w"});
}

}  // namespace
}  // namespace anshin
