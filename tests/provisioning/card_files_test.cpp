// card shipping and card assign --batch against a real home: the letters PDF read back with
// poppler (pdftotext, pdfinfo, pdftoppm) and zbar (zbarimg decodes each page's QR code), the
// shipping list, the cards marked shipped and audited, and the batch file's pairing, each kind
// of bad row, all or nothing and the dry run.
#include <cstdio>
#include <fstream>

#include "common/sys/sys.hpp"
#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

namespace fs = std::filesystem;

const std::string kVerifyUrl = "https://kids-anshin.example.jp/verify";
const std::string kPhone = "03-1234-5678";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto i = haystack.find(needle); i != std::string::npos; i = haystack.find(needle, i + 1))
    ++n;
  return n;
}

// A command's standard output; the test fails when it exits non-zero.
std::string Output(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  INFO(command);
  REQUIRE(pclose(p) == 0);
  return out;
}

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

// "child 12 added (…)" -> 12.
ChildId IdOf(const CliResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.rfind("child ", 0) == 0);
  return ChildId{std::stoll(r.out.substr(6))};
}

// A home whose server.toml has the real sending domain, public URL and call-centre number,
// with two facilities.
struct CardHome {
  fakes::TempDir dir{"card-files-test"};
  fs::path home = dir / "home";
  CardHome() {
    REQUIRE(RunAdmin(home, {"init", "--server-san", "127.0.0.1", "--sender-domain",
                            "kids-anshin.example.jp", "--public-url",
                            "https://kids-anshin.example.jp/", "--callcenter-phone", kPhone})
                .code == 0);
    REQUIRE(Run({"facility", "add", "--code", "hikari-1", "--name", "光が丘第一学童クラブ"}).code ==
            0);
    REQUIRE(Run({"facility", "add", "--code", "hikari-2", "--name", "光が丘第二学童クラブ"}).code ==
            0);
  }
  CliResult Run(std::vector<std::string> args) const { return RunAdmin(home, std::move(args)); }
  ChildId Child(const std::string& facility, const std::string& name, const std::string& number) {
    return IdOf(Run({"child", "add", "--facility", facility, "--name", name, "--number", number}));
  }
  void Assign(ChildId child, const std::string& idm) {
    auto r = Run({"card", "assign", "--child", child.ToString(), "--idm", idm});
    INFO(r.err);
    REQUIRE(r.code == 0);
  }
  template <typename Fn>
  auto Read(Fn&& fn) const {
    auto admin = Admin::Open(home, "tester").value();
    return store::InRead(admin->store(), std::forward<Fn>(fn)).value();
  }
  std::optional<store::Card> ActiveCard(ChildId c) const {
    return Read([&](store::ReadTxn& t) { return t.cards().ActiveOf(c); });
  }
  std::vector<store::AuditEntry> Audit(const std::string& action) const {
    std::vector<store::AuditEntry> all = Read([](store::ReadTxn& t) { return t.audit().List(); });
    std::vector<store::AuditEntry> out;
    for (auto& e : all) {
      if (e.action == action) out.push_back(std::move(e));
    }
    return out;
  }
};

// The QR codes of the PDF's pages, decoded, one per page in page order.
std::vector<std::string> PageQrCodes(const fs::path& pdf, const fs::path& dir, int pages) {
  Output("pdftoppm -r 150 -png " + pdf.string() + " " + (dir / "page").string());
  std::vector<std::string> codes;
  for (int i = 1; i <= pages; ++i) {
    fs::path png;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("page-") && std::stoi(name.substr(5)) == i) png = e.path();
    }
    REQUIRE(!png.empty());
    std::string text = Output("zbarimg --raw -q " + png.string());
    while (!text.empty() && text.back() == '\n') text.pop_back();
    codes.push_back(text);
  }
  return codes;
}

int PdfPages(const fs::path& pdf) {
  const std::string info = Output("pdfinfo " + pdf.string());
  const auto at = info.find("Pages:");
  REQUIRE(at != std::string::npos);
  return std::stoi(info.substr(at + 6));
}

TEST_CASE("card shipping writes one letter page per child and the shipping list", "[admin]") {
  CardHome h;
  const ChildId sakura = h.Child("hikari-1", "練馬 さくら", "A0002");
  const ChildId taro = h.Child("hikari-1", "髙橋 太郎", "A0001");
  const ChildId aoi = h.Child("hikari-2", "光 あおい", "B0001");
  const ChildId no_card = h.Child("hikari-2", "石神井 はると", "B0002");
  REQUIRE(
      h.Run({"guardian", "add", "--child", sakura.ToString(), "--email", "m@example.jp"}).code ==
      0);
  REQUIRE(
      h.Run({"guardian", "add", "--child", sakura.ToString(), "--email", "f@example.jp"}).code ==
      0);
  REQUIRE(h.Run({"guardian", "add", "--child", aoi.ToString(), "--email", "a@example.jp"}).code ==
          0);
  h.Assign(sakura, "0123456789abcdef");
  h.Assign(taro, "0123456789abcde0");
  h.Assign(aoi, "0123456789abcde1");
  (void)no_card;

  const fs::path out = h.dir / "post";
  auto r = h.Run({"card", "shipping", "--out", out.string()});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "3 letters written to " + (out / "letters.pdf").string() + ", shipping list " +
                     (out / "shipping.csv").string() + "\n");

  const fs::path pdf = out / "letters.pdf";
  CHECK(PdfPages(pdf) == 3);
  const std::string text = Output("pdftotext -enc UTF-8 " + pdf.string() + " -");
  // Page order: facility code, then child number.
  std::vector<std::string> pages;
  for (std::size_t start = 0;;) {
    auto ff = text.find('\f', start);
    if (ff == std::string::npos) break;
    pages.push_back(text.substr(start, ff - start));
    start = ff + 1;
  }
  REQUIRE(pages.size() == 3);
  CHECK(Contains(pages[0], "髙橋 太郎"));
  CHECK(Contains(pages[1], "練馬 さくら"));
  CHECK(Contains(pages[2], "光 あおい"));
  CHECK(Contains(pages[0], "光が丘第一学童クラブ"));
  CHECK(Contains(pages[2], "光が丘第二学童クラブ"));
  for (const std::string& page : pages) {
    CHECK(Contains(page, kPhone));
    CHECK(Contains(page, "kids-anshin.example.jp"));
    CHECK(Contains(page, kVerifyUrl));
    CHECK(Contains(page, "6桁"));
  }
  CHECK_FALSE(Contains(text, "石神井"));  // no card, no letter

  const std::vector<std::string> codes = PageQrCodes(pdf, h.dir.path(), 3);
  CHECK(codes == std::vector<std::string>(3, kVerifyUrl));

  // The shipping list: BOM, header, a row per letter in the same order.
  const std::string csv = sys::ReadFile(out / "shipping.csv").value();
  const std::string sakura_ref = h.ActiveCard(sakura)->token.hex().substr(0, 8);
  const std::string taro_ref = h.ActiveCard(taro)->token.hex().substr(0, 8);
  const std::string aoi_ref = h.ActiveCard(aoi)->token.hex().substr(0, 8);
  CHECK(csv ==
        "\xEF\xBB\xBF"
        "\"child_number\",\"name\",\"facility\",\"facility_name\",\"card\",\"guardians\"\r\n"
        "\"A0001\",\"髙橋 太郎\",\"hikari-1\",\"光が丘第一学童クラブ\",\"" +
            taro_ref +
            "\",\"0\"\r\n"
            "\"A0002\",\"練馬 さくら\",\"hikari-1\",\"光が丘第一学童クラブ\",\"" +
            sakura_ref +
            "\",\"2\"\r\n"
            "\"B0001\",\"光 あおい\",\"hikari-2\",\"光が丘第二学童クラブ\",\"" +
            aoi_ref + "\",\"1\"\r\n");

  // Marked shipped and audited, one entry per card, IDs and token prefixes only.
  for (ChildId c : {sakura, taro, aoi}) CHECK(h.ActiveCard(c)->shipped_at.has_value());
  auto audit = h.Audit("card.shipped");
  REQUIRE(audit.size() == 3);
  CHECK(audit[0].detail == "child=" + taro.ToString() + " token=" + taro_ref);
  CHECK(audit[1].detail == "child=" + sakura.ToString() + " token=" + sakura_ref);
  for (const auto& e : audit) CHECK_FALSE(Contains(e.detail, "練馬"));

  // A second run has nothing to ship and writes nothing.
  const fs::path again_dir = h.dir / "post2";
  auto second = h.Run({"card", "shipping", "--out", again_dir.string()});
  REQUIRE(second.code == 0);
  CHECK(Contains(second.out, "no cards to ship"));
  CHECK_FALSE(fs::exists(again_dir));
  CHECK(h.Audit("card.shipped").size() == 3);

  // --again reprints the selection (here one facility) and records the reprint.
  const TimePoint first = *h.ActiveCard(sakura)->shipped_at;
  auto reprint =
      h.Run({"card", "shipping", "--out", again_dir.string(), "--facility", "hikari-1", "--again"});
  INFO(reprint.err);
  REQUIRE(reprint.code == 0);
  CHECK(Contains(reprint.out, "2 letters written to "));
  CHECK(Contains(reprint.out, "(2 reprinted)"));
  CHECK(PdfPages(again_dir / "letters.pdf") == 2);
  CHECK(*h.ActiveCard(sakura)->shipped_at >= first);
  audit = h.Audit("card.shipped");
  REQUIRE(audit.size() == 5);
  CHECK(audit[4].detail == "child=" + sakura.ToString() + " token=" + sakura_ref + " reprint");
}

TEST_CASE("card shipping of one child and of a new card only", "[admin]") {
  CardHome h;
  const ChildId a = h.Child("hikari-1", "練馬 さくら", "A0001");
  const ChildId b = h.Child("hikari-1", "練馬 あおい", "A0002");
  h.Assign(a, "00000000000000a1");
  h.Assign(b, "00000000000000b1");
  auto one =
      h.Run({"card", "shipping", "--out", (h.dir / "one").string(), "--child", a.ToString()});
  REQUIRE(one.code == 0);
  CHECK(Contains(one.out, "1 letter written to "));
  CHECK(h.ActiveCard(a)->shipped_at.has_value());
  CHECK_FALSE(h.ActiveCard(b)->shipped_at.has_value());

  // A replacement card is a new card: its letter goes out again.
  REQUIRE(h.Run({"card", "replace", "--child", a.ToString(), "--idm", "00000000000000a2"}).code ==
          0);
  auto rest = h.Run({"card", "shipping", "--out", (h.dir / "rest").string()});
  REQUIRE(rest.code == 0);
  CHECK(Contains(rest.out, "2 letters written to "));
}

TEST_CASE("card shipping refuses the placeholders of a fresh init", "[admin]") {
  TestHome h;  // init without --sender-domain, --public-url, --callcenter-phone
  auto c = h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら"});
  REQUIRE(
      h.Run({"card", "assign", "--child", IdOf(c).ToString(), "--idm", "0123456789abcdef"}).code ==
      0);
  auto r = h.Run({"card", "shipping", "--out", (h.dir / "post").string()});
  CHECK(r.code != 0);
  CHECK(Contains(r.err, "mail.from is still the placeholder"));
  CHECK_FALSE(fs::exists(h.dir / "post"));
}

TEST_CASE("card assign --batch pairs IDms with children without a card, in order", "[admin]") {
  CardHome h;
  const ChildId second = h.Child("hikari-1", "練馬 さくら", "A0002");
  const ChildId first = h.Child("hikari-1", "練馬 あおい", "A0001");
  const ChildId has_card = h.Child("hikari-1", "練馬 はると", "A0000");
  const ChildId other = h.Child("hikari-2", "光 たろう", "B0001");
  h.Assign(has_card, "ffffffffffffffff");
  const fs::path file = h.dir / "delivery.csv";
  WriteText(file, "\xEF\xBB\xBFserial,IDm\r\n1,0123456789ABCDEF\r\n2,0123456789abcde0\r\n\r\n");

  auto dry =
      h.Run({"card", "assign", "--batch", file.string(), "--facility", "hikari-1", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.code == 0);
  CHECK(Contains(dry.out, "2 cards would be assigned; nothing written (--dry-run)"));
  CHECK_FALSE(h.ActiveCard(first));

  auto r = h.Run({"card", "assign", "--batch", file.string(), "--facility", "hikari-1"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out, "row 2: card "));
  CHECK(Contains(r.out, " assigned to child " + first.ToString() + " (A0001)\n"));
  CHECK(Contains(r.out, "row 3: card "));
  CHECK(Contains(r.out, " assigned to child " + second.ToString() + " (A0002)\n"));
  CHECK(Contains(r.out, "card assign: 2 cards assigned\n"));
  // The same token as `card assign --idm` computes (the IDm in any case).
  auto admin = Admin::Open(h.home, "tester").value();
  CardKey key = CardKey::Parse(sys::ReadFile(h.home / "card.key").value().substr(0, 64)).value();
  CHECK(h.ActiveCard(first)->token == key.TokenOf(Idm::Parse("0123456789abcdef").value()));
  CHECK(h.ActiveCard(second)->token == key.TokenOf(Idm::Parse("0123456789abcde0").value()));
  CHECK_FALSE(h.ActiveCard(other));
  CHECK(h.Audit("card.assign").size() == 3);

  // Without --facility every facility's children take part; --format csv gives the tokens.
  WriteText(file, "idm\n00000000000000b1\n");
  auto all = h.Run({"card", "assign", "--batch", file.string(), "--format", "csv"});
  INFO(all.err);
  REQUIRE(all.code == 0);
  CHECK(all.out == "\"row\",\"child\",\"child_number\",\"token\"\r\n\"2\",\"" + other.ToString() +
                       "\",\"B0001\",\"" + h.ActiveCard(other)->token.hex() + "\"\r\n");
}

TEST_CASE("card assign --batch with a child column pairs as given", "[admin]") {
  CardHome h;
  const ChildId a = h.Child("hikari-1", "練馬 さくら", "A0001");
  const ChildId b = h.Child("hikari-2", "練馬 あおい", "B0001");
  const fs::path file = h.dir / "delivery.csv";
  // By child number, and by id.
  WriteText(file, "child,idm\nB0001,00000000000000b1\n" + a.ToString() + ",00000000000000a1\n");
  auto r = h.Run({"card", "assign", "--batch", file.string()});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out, "row 2: card "));
  CHECK(Contains(r.out, " assigned to child " + b.ToString() + " (B0001)"));
  CHECK(Contains(r.out, " assigned to child " + a.ToString() + " (A0001)"));
  CardKey key = CardKey::Parse(sys::ReadFile(h.home / "card.key").value().substr(0, 64)).value();
  CHECK(h.ActiveCard(a)->token == key.TokenOf(Idm::Parse("00000000000000a1").value()));
  CHECK(h.ActiveCard(b)->token == key.TokenOf(Idm::Parse("00000000000000b1").value()));
}

TEST_CASE("card assign --batch reports every bad row and assigns nothing", "[admin]") {
  CardHome h;
  const ChildId a = h.Child("hikari-1", "練馬 さくら", "A0001");
  const ChildId b = h.Child("hikari-1", "練馬 あおい", "A0002");
  const ChildId c = h.Child("hikari-2", "光 たろう", "B0001");
  const ChildId with_card = h.Child("hikari-1", "練馬 はると", "A0003");
  h.Assign(with_card, "ffffffffffffffff");
  const fs::path file = h.dir / "delivery.csv";

  // With a child column: each kind of bad row, and one good row that must not be kept.
  WriteText(file,
            "child,idm\n"
            "A0001,0123456789abcdef\n"    // 2: fine on its own
            "A0002,0123456789abcdeg\n"    // 3: not hex
            "A0002,0123456789abcde\n"     // 4: too short
            "B0001,0123456789ABCDEF\n"    // 5: the IDm of row 2
            "Z9999,00000000000000c1\n"    // 6: no such child
            "A0002,ffffffffffffffff\n"    // 7: that card is A0003's
            ",00000000000000c2\n"         // 8: child empty
            "A0003,00000000000000c3\n"    // 9: has a card already
            "B0001,00000000000000c4\n");  // 10: not at hikari-1
  auto r = h.Run({"card", "assign", "--batch", file.string(), "--facility", "hikari-1"});
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  CHECK(Contains(r.err, "row 3, column idm: not an IDm (16 hex digits)\n"));
  CHECK(Contains(r.err, "row 4, column idm: not an IDm (16 hex digits)\n"));
  CHECK(Contains(r.err, "row 5, column idm: the same IDm as row 2 (twice in the file)\n"));
  CHECK(Contains(r.err, "row 6, column child: unknown child"));
  CHECK(Contains(
      r.err, "row 7, column idm: card already assigned to child " + with_card.ToString() + "\n"));
  CHECK(Contains(r.err, "row 8, column child: empty"));
  CHECK(Contains(
      r.err, "row 9, column child: child " + with_card.ToString() + " already has an active card"));
  CHECK(Contains(r.err,
                 "row 10, column child: child " + c.ToString() + " is not at facility hikari-1"));
  CHECK(Contains(r.err, "8 bad rows; no card assigned"));
  CHECK_FALSE(Contains(r.err, "row 2,"));
  CHECK_FALSE(h.ActiveCard(a));
  CHECK_FALSE(h.ActiveCard(b));
  CHECK(h.Audit("card.assign").size() == 1);  // with_card's, from before

  // Without a child column: more IDms than children without a card.
  WriteText(file, "idm\n00000000000000d1\n00000000000000d2\n00000000000000d3\n");
  auto more = h.Run({"card", "assign", "--batch", file.string(), "--facility", "hikari-1"});
  CHECK(more.code == 2);
  CHECK(Count(more.err, "more IDms than children without a card (2 at facility hikari-1)") == 1);
  CHECK(Contains(more.err, "row 4, column idm: more IDms"));
  CHECK_FALSE(h.ActiveCard(a));

  // A file without the idm column, and a child named twice.
  WriteText(file, "serial\n1\n");
  auto no_column = h.Run({"card", "assign", "--batch", file.string()});
  CHECK(no_column.code == 2);
  CHECK(Contains(no_column.err, "row 1, column idm: missing from the header row"));
  WriteText(file, "child,idm\nA0001,00000000000000e1\nA0001,00000000000000e2\n");
  auto twice = h.Run({"card", "assign", "--batch", file.string()});
  CHECK(twice.code == 2);
  CHECK(Contains(twice.err,
                 "row 3, column child: child " + a.ToString() + " is named twice (rows 2 and 3)"));
  CHECK_FALSE(h.ActiveCard(a));

  // --batch with --child is refused.
  auto mixed = h.Run({"card", "assign", "--batch", file.string(), "--child", a.ToString()});
  CHECK(mixed.code == 2);
}

TEST_CASE("Cards::MarkShipped marks all or none, and only active cards", "[admin]") {
  CardHome h;
  const ChildId a = h.Child("hikari-1", "練馬 さくら", "A0001");
  const ChildId b = h.Child("hikari-1", "練馬 あおい", "A0002");
  h.Assign(a, "00000000000000a1");
  h.Assign(b, "00000000000000b1");
  REQUIRE(h.Run({"card", "lost", "--child", b.ToString()}).code == 0);
  auto admin = Admin::Open(h.home, "tester").value();
  services::Cards cards(admin->store());
  const CardToken ta = h.ActiveCard(a)->token;
  const CardToken tb = h.Read([&](store::ReadTxn& t) { return t.cards().OfChild(b); })[0].token;
  Status s = cards.MarkShipped({ta, tb}, admin->Who());
  CHECK(s.code() == Status::Code::kFailedPrecondition);
  CHECK(Contains(s.message(), "is lost now, not active"));
  CHECK_FALSE(h.ActiveCard(a)->shipped_at);
  CHECK(h.Audit("card.shipped").empty());
  REQUIRE(cards.MarkShipped({ta}, admin->Who()).ok());
  CHECK(h.ActiveCard(a)->shipped_at);
}

TEST_CASE("card assign --batch reads a Shift_JIS file with a Japanese child column", "[admin]") {
  CardHome h;
  const ChildId a = h.Child("hikari-1", "練馬 さくら", "A0001");
  const fs::path utf8 = h.dir / "utf8.csv", sjis = h.dir / "sjis.csv";
  WriteText(utf8, "番号,児童番号,IDm,納品日\r\n1,A0001,00000000000000a1,１２月２日\r\n");
  Output("iconv -f UTF-8 -t CP932 " + utf8.string() + " > " + sjis.string());
  auto r = h.Run({"card", "assign", "--batch", sjis.string()});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out, " assigned to child " + a.ToString() + " (A0001)"));
  CHECK(h.ActiveCard(a));
}

}  // namespace
}  // namespace anshin::admin::testing
