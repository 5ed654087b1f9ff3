// card shipping: the shipping list and the letters for the cards going in the post
// (card_files.hpp, letters/letter_pdf.hpp).
#include <map>
#include <sstream>
#include <system_error>

#include "common/sys/sys.hpp"
#include "common/validate.hpp"
#include "provisioning/admin.hpp"
#include "provisioning/letters/letter_pdf.hpp"
#include "provisioning/output.hpp"

namespace anshin::admin {
namespace {

namespace fs = std::filesystem;

// What every letter of the deployment says, from the [mail] table of server.toml: the keys
// the server reads (notify-server/mail/mail_config.hpp). Letters cannot be taken back once in
// the post, so the placeholders `init` writes are refused rather than printed.
struct LetterSettings {
  std::string service_name;
  std::string sender_domain;
  std::string callcenter_phone;
  std::string verify_url;
};

Result<LetterSettings> ReadLetterSettings(const fs::path& server_toml) {
  ANSHIN_ASSIGN_OR_RETURN(sys::Config config, sys::Config::Load(server_toml));
  LetterSettings s;
  ANSHIN_ASSIGN_OR_RETURN(s.service_name, config.String("mail.from_name", "キッズ安心メール"));
  ANSHIN_ASSIGN_OR_RETURN(std::string from, config.String("mail.from", ""));
  const auto at = from.rfind('@');
  if (from.empty() || !CheckEmailAddress(from).ok() || at == std::string::npos) {
    return Status::FailedPrecondition(server_toml.string() +
                                      ": mail.from is not set to the sending address; the "
                                      "letters name its domain for carrier mail filters");
  }
  s.sender_domain = from.substr(at + 1);
  if (s.sender_domain.ends_with(".invalid")) {
    return Status::FailedPrecondition(server_toml.string() +
                                      ": mail.from is still the placeholder " + from +
                                      "; set the real sending address first");
  }
  ANSHIN_ASSIGN_OR_RETURN(std::string url, config.String("mail.public_url", ""));
  while (url.ends_with("/")) url.pop_back();
  if (!url.starts_with("https://")) {
    return Status::FailedPrecondition(
        server_toml.string() +
        ": mail.public_url must be the public https:// address guardians "
        "open (the letters' QR code points at its /verify page)");
  }
  s.verify_url = url + "/verify";
  ANSHIN_ASSIGN_OR_RETURN(s.callcenter_phone, config.String("mail.callcenter_phone", ""));
  if (s.callcenter_phone.empty()) {
    return Status::FailedPrecondition(server_toml.string() +
                                      ": mail.callcenter_phone is not set; the letters give "
                                      "guardians the call centre's number");
  }
  return s;
}

// One card going in the post, with what its row and letter show.
struct Shipment {
  store::Card card;
  store::Child child;
  store::Facility facility;
  int guardians = 0;
};

std::string CardReference(const CardToken& token) { return token.hex().substr(0, 8); }

// The shipping list: UTF-8 with a BOM (Excel opens it as UTF-8), CRLF, every field quoted.
std::string ShippingCsv(const std::vector<Shipment>& shipments) {
  Listing l{{"child_number", "name", "facility", "facility_name", "card", "guardians"}, {}};
  for (const Shipment& s : shipments) {
    l.Add({s.child.number.value_or(""), s.child.name, s.facility.code, s.facility.name,
           CardReference(s.card.token), s.guardians});
  }
  std::ostringstream out;
  out << "\xEF\xBB\xBF";
  WriteListing(l, OutputFormat::kCsv, out);
  return out.str();
}

}  // namespace

Result<ShippingReport> Admin::CardShipping(const ShippingOptions& o) {
  if (o.out_dir.empty()) return Status::InvalidArgument("--out: required");
  ANSHIN_ASSIGN_OR_RETURN(LetterSettings settings, ReadLetterSettings(home_ / "server.toml"));
  std::optional<FacilityId> facility;
  if (!o.facility_code.empty()) {
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(o.facility_code));
    facility = f.id;
  }
  ANSHIN_ASSIGN_OR_RETURN(
      std::vector<Shipment> shipments,
      store::InRead(*store_, [&](store::ReadTxn& txn) -> Result<std::vector<Shipment>> {
        if (o.child) ANSHIN_RETURN_IF_ERROR(txn.children().Get(*o.child).status());
        ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Card> cards,
                                txn.cards().ActiveToShip(facility, o.child, o.again));
        std::map<FacilityId, store::Facility> facilities;
        std::vector<Shipment> out;
        for (store::Card& card : cards) {
          Shipment s;
          ANSHIN_ASSIGN_OR_RETURN(s.child, txn.children().Get(card.child));
          if (!facilities.contains(s.child.facility)) {
            ANSHIN_ASSIGN_OR_RETURN(store::Facility f, txn.facilities().Get(s.child.facility));
            facilities.emplace(f.id, std::move(f));
          }
          s.facility = facilities.at(s.child.facility);
          ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Guardian> guardians,
                                  txn.guardians().OfChild(card.child));
          s.guardians = static_cast<int>(guardians.size());
          s.card = std::move(card);
          out.push_back(std::move(s));
        }
        return out;
      }));
  ShippingReport report;
  report.pdf = o.out_dir / "letters.pdf";
  report.csv = o.out_dir / "shipping.csv";
  if (shipments.empty()) return report;

  std::vector<letters::Letter> pages;
  std::vector<CardToken> tokens;
  for (const Shipment& s : shipments) {
    letters::Letter l;
    l.child_name = s.child.name;
    l.child_number = s.child.number.value_or("");
    l.facility_name = s.facility.name;
    l.card_reference = CardReference(s.card.token);
    l.service_name = settings.service_name;
    l.sender_domain = settings.sender_domain;
    l.callcenter_phone = settings.callcenter_phone;
    l.verify_url = settings.verify_url;
    pages.push_back(std::move(l));
    tokens.push_back(s.card.token);
    if (s.card.shipped_at) ++report.reprinted;
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Status::Unavailable("creating " + o.out_dir.string() + ": " + ec.message());
  // The files first, then the cards marked: a failure in between leaves the cards unshipped,
  // so the next run prints them again rather than never.
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(report.csv, ShippingCsv(shipments)));
  ANSHIN_RETURN_IF_ERROR(letters::WriteLettersPdf(pages, report.pdf));
  ANSHIN_RETURN_IF_ERROR(cards_.MarkShipped(tokens, Who()));
  report.letters = static_cast<int>(shipments.size());
  return report;
}

}  // namespace anshin::admin
