// anshin-admin import applications against a real home: files written by the test as UTF-8,
// UTF-8 with a BOM and Shift_JIS (the iconv command, as Excel saves it), what the store holds
// afterwards, the verification mails in the outbox, all-or-nothing on bad rows, idempotent
// re-import, updates, dry runs and the template.
#include <cstdio>
#include <fstream>

#include "common/sys/sys.hpp"
#include "provisioning/import/applications.hpp"
#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void WriteBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
  REQUIRE(f.good());
}

// The text converted by the iconv command (not the code under test's iconv calls).
std::string ToCp932(const fs::path& dir, const std::string& utf8) {
  const fs::path in = dir / "utf8.csv";
  WriteBytes(in, utf8);
  FILE* p = popen(("iconv -f UTF-8 -t CP932 " + in.string()).c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}

const std::string kJapaneseHeader =
    "児童番号,氏名,ふりがな,施設コード,学年,保護者1メール,保護者1来館,保護者1退館,"
    "保護者2メール,保護者2来館,保護者2退館,月曜退館,金曜退館,通所曜日\r\n";
const std::string kJapaneseFile =
    kJapaneseHeader +
    "A0001,練馬 さくら,ねりま さくら,hikari-1,１年,mother@example.jp,○,○,"
    "father@example.jp,×,はい,17:30,１８：００,月・水・金\r\n"
    "A0002,髙橋 ①太郎,たかはし たろう,hikari-1,2,taro.mama@example.jp,1,0,,,,,\r\n";

struct ImportHome : TestHome {
  fs::path file = dir / "applications.csv";

  CliResult Import(const std::string& bytes, std::vector<std::string> extra = {}) const {
    WriteBytes(file, bytes);
    std::vector<std::string> args = {"import", "applications", file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
  std::optional<ChildId> ByNumber(const std::string& number) const {
    return Read([&](store::ReadTxn& t) { return t.children().FindByNumber(number); });
  }
  store::Child Child(ChildId id) const {
    return Read([&](store::ReadTxn& t) { return t.children().Get(id); });
  }
  std::vector<store::Guardian> Guardians(ChildId id) const {
    return Read([&](store::ReadTxn& t) { return t.guardians().OfChild(id); });
  }
  std::vector<store::OutboxRow> Outbox() const {
    return Read([](store::ReadTxn& t) { return t.outbox().List(std::nullopt); });
  }
  std::vector<store::AuditEntry> Audit() const {
    return Read([](store::ReadTxn& t) { return t.audit().List(); });
  }
};

void CheckJapaneseFileImported(const ImportHome& h, const CliResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out,
                 "import: 2 children added, 0 updated, 0 unchanged; 3 guardians added "
                 "(verification mails queued)"));
  auto sakura = h.ByNumber("A0001");
  REQUIRE(sakura);
  store::Child c = h.Child(*sakura);
  CHECK(c.name == "練馬 さくら");
  CHECK(c.kana == "ねりま さくら");
  CHECK(c.grade == std::optional<int>(1));
  CHECK(c.schedule.expected_departure[1] == std::optional<LocalTime>(LocalTime::HM(17, 30)));
  CHECK(c.schedule.expected_departure[5] == std::optional<LocalTime>(LocalTime::HM(18, 0)));
  CHECK_FALSE(c.schedule.expected_departure[3].has_value());
  CHECK(c.attend_days.bits == 0b0101010);  // 月・水・金
  auto gs = h.Guardians(*sakura);
  REQUIRE(gs.size() == 2);
  CHECK(gs[0].email == "mother@example.jp");
  CHECK(gs[0].wants_arrival);
  CHECK(gs[1].email == "father@example.jp");
  CHECK_FALSE(gs[1].wants_arrival);
  CHECK(gs[1].wants_departure);
  for (const auto& g : gs) CHECK_FALSE(g.verified);

  auto taro = h.ByNumber("A0002");
  REQUIRE(taro);
  CHECK(h.Child(*taro).name == "髙橋 ①太郎");  // CP932's NEC and IBM extensions survive
  auto tg = h.Guardians(*taro);
  REQUIRE(tg.size() == 1);
  CHECK_FALSE(tg[0].wants_departure);

  // One verification mail queued per new address, and the audit names IDs only.
  auto outbox = h.Outbox();
  REQUIRE(outbox.size() == 3);
  std::vector<GuardianId> mailed;
  for (const auto& m : outbox) {
    CHECK(m.message.kind == store::OutboxKind::kVerification);
    CHECK(m.state == store::OutboxState::kQueued);
    CHECK(m.message.verification_code.size() == 6);
    mailed.push_back(m.message.guardian);
  }
  CHECK(mailed == std::vector<GuardianId>{gs[0].id, gs[1].id, tg[0].id});
  int child_adds = 0, guardian_adds = 0, imports = 0;
  for (const auto& e : h.Audit()) {
    child_adds += e.action == "child.add";
    guardian_adds += e.action == "guardian.add";
    imports += e.action == "import.applications";
    CHECK_FALSE(Contains(e.detail, "example.jp"));
    CHECK_FALSE(Contains(e.detail, "さくら"));
  }
  CHECK(child_adds == 2);
  CHECK(guardian_adds == 3);
  CHECK(imports == 1);
}

TEST_CASE("import applications reads a Japanese-headed file as UTF-8, UTF-8 with BOM and Shift_JIS",
          "[import]") {
  ImportHome h;
  SECTION("UTF-8") { CheckJapaneseFileImported(h, h.Import(kJapaneseFile)); }
  SECTION("UTF-8 with a BOM") {
    CheckJapaneseFileImported(h, h.Import("\xEF\xBB\xBF" + kJapaneseFile));
  }
  SECTION("Shift_JIS, detected") {
    CheckJapaneseFileImported(h, h.Import(ToCp932(h.dir.path(), kJapaneseFile)));
  }
  SECTION("Shift_JIS, given") {
    CheckJapaneseFileImported(
        h, h.Import(ToCp932(h.dir.path(), kJapaneseFile), {"--encoding", "shift_jis"}));
  }
}

TEST_CASE("a file with bad rows imports nothing and names every bad row and column", "[import]") {
  ImportHome h;
  // A registered child with three guardians: a row giving it two more exceeds four.
  REQUIRE(h.Import("child_number,name,facility,guardian1_email,guardian2_email,guardian3_email\n"
                   "F1,Full Child,hikari-1,a@example.jp,b@example.jp,c@example.jp\n")
              .code == 0);
  const auto outbox_before = h.Outbox().size();
  const auto audit_before = h.Audit().size();
  const std::string file =
      "child_number,name,kana,facility,grade,guardian1_email,guardian1_arrival,"
      "guardian2_email,departure_mon\n"
      "G1,Good Child,,hikari-1,1,good@example.jp,1,\n"            // 2: fine
      "C 3,Bad Number,,hikari-1,1,ok3@example.jp,1,\n"            // 3: services' number rule
      "C4,Bad Kana,Haruto,hikari-1,1,ok4@example.jp,1,\n"         // 4: services' kana rule
      "C5,No Such Facility,,nowhere,1,ok5@example.jp,1,\n"        // 5: facility missing
      "C6,Bad Mail,,hikari-1,1,not-an-address,1,\n"               // 6: parser
      "C7,Bad Choice,,hikari-1,9,ok7@example.jp,maybe,\n"         // 7: two cells
      "F1,Full Child,,hikari-1,,d@example.jp,1,e@example.jp\n"    // 8: a fifth guardian
      "G1,Number Again,,hikari-1,1,ok9@example.jp,1,\n"           // 9: in the file twice
      "C10,Same Twice,,hikari-1,1,x@example.jp,1,X@example.jp\n"  // 10: an address twice
      "C11,,,hikari-1,1,ok11@example.jp,1,\n"                     // 11: no name
      "C12,Bad Time,,hikari-1,1,ok12@example.jp,1,,25:00\n"       // 12: no such time
      "C13,No Guardian,,hikari-1,1,,,\n";                         // 13: no address
  for (bool dry_run : {false, true}) {
    INFO("dry run " << dry_run);
    auto r = dry_run ? h.Import(file, {"--dry-run"}) : h.Import(file);
    INFO(r.err);
    CHECK(r.code == 2);
    for (const char* expected : {
             "row 3, column child_number: only ASCII letters, digits, '-' and '_' are allowed",
             "row 4, column kana: only hiragana, katakana and spaces are allowed",
             "row 5, column facility: no facility has this code",
             "row 6, column guardian1_email: ",
             "row 7, column grade: expected a grade from 1 to 6",
             "row 7, column guardian1_arrival: expected 1/0, ○/× or はい/いいえ",
             "row 8, column guardian2_email: child ",
             "row 9, column child_number: the same child number as row 2",
             "row 10, column guardian2_email: the same address as guardian1_email",
             "row 11, column name: must not be empty",
             "row 12, column departure_mon: expected a time of day as HH:MM",
             "row 13, column guardian1_email: a child needs a guardian's address",
             "import: nothing imported: 12 problems in 11 rows",
         }) {
      CHECK(Contains(r.err, expected));
    }
    CHECK(Contains(r.err, "already has 4 guardians"));
    CHECK_FALSE(Contains(r.err, "row 2, "));
    CHECK_FALSE(Contains(r.err, "row 2: "));
    CHECK_FALSE(Contains(r.err, "not-an-address"));  // no cell's value is echoed
    CHECK_FALSE(Contains(r.err, "UNIQUE"));
    // Nothing of the good row or the fourth guardian was written.
    CHECK_FALSE(h.ByNumber("G1"));
    CHECK(h.Guardians(*h.ByNumber("F1")).size() == 3);
    CHECK(h.Outbox().size() == outbox_before);
    CHECK(h.Audit().size() == audit_before);
  }
}

TEST_CASE("importing the same file again changes nothing", "[import]") {
  ImportHome h;
  // Enough rows for the progress lines (every 500 rows when stderr is not a terminal).
  std::string file = "child_number,name,facility,grade,guardian1_email,guardian2_email\n";
  for (int i = 1; i <= 1000; ++i) {
    const std::string n = std::to_string(i);
    file += "N" + n + ",Child " + n + ",hikari-1,2,m" + n + "@example.jp,f" + n + "@example.jp\n";
  }
  auto first = h.Import(file);
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK(Contains(first.out,
                 "import: 1000 children added, 0 updated, 0 unchanged; 2000 guardians "
                 "added (verification mails queued)"));
  CHECK(Contains(first.err, "import: 500 of 1000 rows\n"));
  CHECK(Contains(first.err, "import: 1000 of 1000 rows\n"));
  CHECK_FALSE(Contains(first.err, "\r"));
  const auto outbox = h.Outbox().size();
  const auto audit = h.Audit().size();
  CHECK(outbox == 2000);

  auto again = h.Import(file);
  INFO(again.err);
  REQUIRE(again.code == 0);
  CHECK(Contains(again.out,
                 "import: 0 children added, 0 updated, 1000 unchanged; 0 guardians added"));
  CHECK_FALSE(Contains(again.out, "queued"));
  CHECK(h.Outbox().size() == outbox);
  CHECK(h.Audit().size() == audit);
  // Addresses differing only in case are the same guardian's.
  std::string upper =
      "child_number,name,facility,guardian1_email\nN1,Child 1,hikari-1,M1@EXAMPLE.JP\n";
  auto r = h.Import(upper);
  CHECK(Contains(r.out, "0 children added, 0 updated, 1 unchanged; 0 guardians added"));
}

TEST_CASE("a changed row updates its child and adds only the new address", "[import]") {
  ImportHome h;
  REQUIRE(h.Run({"facility", "add", "--code", "hikari-2", "--name", "光が丘第二学童クラブ"}).code ==
          0);
  REQUIRE(
      h.Import("child_number,name,kana,facility,grade,guardian1_email,guardian2_email,"
               "departure_mon\n"
               "A1,練馬 さくら,ねりま さくら,hikari-1,1,mother@example.jp,father@example.jp,17:30\n"
               "A2,練馬 はると,,hikari-1,2,haru@example.jp,,\n")
          .code == 0);
  const ChildId a1 = *h.ByNumber("A1");
  const auto before = h.Guardians(a1);
  REQUIRE(before.size() == 2);
  const auto outbox = h.Outbox().size();
  const auto audit = h.Audit().size();

  // A1 moves to hikari-2, changes grade, drops father (kept), adds grandma; mother's
  // choices in the file differ (kept). The kana column is absent: the stored kana stays.
  auto r = h.Import(
      "child_number,name,facility,grade,guardian1_email,guardian1_arrival,guardian2_email,"
      "departure_mon\n"
      "A1,練馬 さくら,hikari-2,2,mother@example.jp,0,grandma@example.jp,\n"
      "A2,練馬 はると,hikari-1,2,haru@example.jp,,\n");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out,
                 "import: 0 children added, 1 updated, 1 unchanged; 1 guardian added "
                 "(verification mails queued); 1 registered guardian not in the file kept; "
                 "1 guardian's mail choices differ from the file, kept as stored"));
  CHECK(Contains(r.out, "row 2: guardian " + before[1].id.ToString() + " of child " +
                            a1.ToString() + " is not in the file and was kept"));
  CHECK(Contains(r.out, "row 2, column guardian1_email: guardian " + before[0].id.ToString() +
                            " keeps the arrival/departure choices stored"));

  store::Child c = h.Child(a1);
  CHECK(c.grade == std::optional<int>(2));
  CHECK(c.kana == "ねりま さくら");
  CHECK_FALSE(c.schedule.expected_departure[1].has_value());  // present and empty: cleared
  auto f2 = h.Read([](store::ReadTxn& t) { return t.facilities().FindByCode("hikari-2"); });
  REQUIRE(f2);
  CHECK(c.facility == f2->id);
  auto after = h.Guardians(a1);
  REQUIRE(after.size() == 3);
  CHECK(after[0].wants_arrival);  // as stored
  CHECK(after[2].email == "grandma@example.jp");
  CHECK_FALSE(after[2].verified);
  auto mails = h.Outbox();
  REQUIRE(mails.size() == outbox + 1);
  CHECK(mails.back().message.guardian == after[2].id);
  CHECK(mails.back().message.kind == store::OutboxKind::kVerification);

  // One child.update naming the changed fields, one guardian.add, one import entry.
  auto entries = h.Audit();
  REQUIRE(entries.size() == audit + 3);
  std::vector<std::string> actions;
  for (auto i = audit; i < entries.size(); ++i) actions.push_back(entries[i].action);
  CHECK(actions == std::vector<std::string>{"child.update", "guardian.add", "import.applications"});
  CHECK(entries[audit].detail ==
        "child=" + a1.ToString() + " changed=facility,expected_departure,grade");
}

TEST_CASE("a dry run says what would change and writes nothing", "[import]") {
  ImportHome h;
  auto r = h.Import(kJapaneseFile, {"--dry-run"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out,
                 "import (dry run, nothing written): would add 2 children, update 0, leave 0 "
                 "unchanged; would add 3 guardians (verification mails would be queued)"));
  CHECK_FALSE(h.ByNumber("A0001"));
  CHECK(h.Outbox().empty());
  for (const auto& e : h.Audit()) CHECK(e.action.rfind("import", 0) != 0);
  // The real import afterwards does what the dry run said.
  CheckJapaneseFileImported(h, h.Import(kJapaneseFile));
}

TEST_CASE("the template is written to stdout or a file and imports as it is", "[import]") {
  ImportHome h;
  auto r = h.Run({"import", "applications", "--template"});
  REQUIRE(r.code == 0);
  CHECK(r.out == import::ApplicationTemplate(false));
  auto ja = h.Run({"import", "applications", "--template", "--japanese", "--out",
                   (h.dir / "template.csv").string()});
  REQUIRE(ja.code == 0);
  CHECK(sys::ReadFile(h.dir / "template.csv").value() == import::ApplicationTemplate(true));
  // Its example row names facility hikari1.
  REQUIRE(h.Run({"facility", "add", "--code", "hikari1", "--name", "光が丘第一学童クラブ"}).code ==
          0);
  auto imported = h.Run({"import", "applications", (h.dir / "template.csv").string()});
  INFO(imported.err);
  CHECK(imported.code == 0);
  CHECK(Contains(imported.out, "import: 1 child added"));

  auto none = h.Run({"import", "applications"});
  CHECK(none.code == 2);
  CHECK(Contains(none.err, "FILE: required (or --template)"));
}

}  // namespace
}  // namespace anshin::admin::testing
