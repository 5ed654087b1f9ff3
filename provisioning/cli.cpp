// The anshin-admin command line: flag parsing and printing only; the work is in admin.cpp.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "provisioning/admin.hpp"

namespace anshin::admin {
namespace {

void AddFacilityFlags(CLI::App* cmd, FacilitySettings& s) {
  auto opt = [&](const char* flag, std::optional<std::string>& target, const char* help) {
    cmd->add_option_function<std::string>(
        flag, [&target](const std::string& v) { target = v; }, help);
  };
  opt("--name", s.name, "display name used in mails");
  opt("--tz", s.tz, "time zone (default Asia/Tokyo)");
  opt("--departure-from", s.departure_from,
      "a tap with no open visit from this time is a departure (16:30)");
  opt("--departure-margin", s.departure_margin, "margin before a child's expected departure (30m)");
  opt("--double-tap-window", s.double_tap_window,
      "taps this close to the last one are duplicates (120s)");
  opt("--closing-time", s.closing_time, "closing time (19:00)");
  opt("--closing-grace", s.closing_grace, "no-departure alerts this long after closing (15m)");
  opt("--late-after", s.late_after, "mails for taps received this late say so (5m)");
  opt("--opens", s.opens, "opening time on school days (13:00), for silence monitoring");
}

std::string FormatOptTime(const std::optional<TimePoint>& t) {
  return t ? FormatRfc3339(*t) : "never";
}

std::string HealthSummary(const std::string& json) {
  if (json.empty()) return "-";
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "?";
  std::string out = "reader=" + j.value("reader_state", std::string("?"));
  if (j.contains("queue_depth")) out += " queue=" + j["queue_depth"].dump();
  return out;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "anshin-admin: provisioning of an anshin deployment (CA and certificates, facilities, "
      "agents, "
      "children, cards, guardians)"};
  app.require_subcommand(1);
  std::string home = DefaultHome().string();
  app.add_option("--home", home,
                 "deployment home holding anshin.db, pki/ and card.key ($ANSHIN_HOME)")
      ->capture_default_str();

  Status status;
  auto run = [&status](Status s) { status = std::move(s); };
  auto open = [&]() -> Result<std::unique_ptr<Admin>> { return Admin::Open(home, OperatorName()); };

  // init
  InitOptions init;
  auto* init_cmd = app.add_subcommand(
      "init", "create the database, CA, server certificate, card key and server.toml");
  init_cmd
      ->add_option("--server-san", init.server_sans,
                   "server certificate name or address (repeatable)")
      ->required();
  init_cmd->add_flag("--force", init.force,
                     "replace an existing deployment (destroys its database and keys)");
  init_cmd->callback([&] {
    run(Init(home, init, OperatorName(), SystemClock().Now()));
    if (status.ok()) {
      out << "initialised " << home
          << ": anshin.db, pki/ca.{key,crt}, pki/server.{key,crt}, card.key, server.toml\n";
    }
  });

  // facility
  auto* facility = app.add_subcommand("facility", "facilities and their engine parameters");
  facility->require_subcommand(1);
  std::string fcode;
  FacilitySettings fset;
  auto* fadd = facility->add_subcommand("add", "add a facility");
  fadd->add_option("--code", fcode, "short unique code")->required();
  AddFacilityFlags(fadd, fset);
  fadd->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto id = (*admin)->FacilityAdd(fcode, fset);
    if (!id.ok()) return run(id.status());
    out << id->value << "\n";
  });
  auto* flist = facility->add_subcommand("list", "list facilities");
  flist->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto list = (*admin)->FacilityList();
    if (!list.ok()) return run(list.status());
    out << "id\tcode\tname\ttz\tdeparture_from\tdeparture_margin\tdouble_tap_window\tclosing_"
           "time\tclosing_grace"
           "\tlate_after\topens\n";
    for (const auto& f : *list) {
      out << f.id.value << '\t' << f.code << '\t' << f.name << '\t' << f.tz_name << '\t'
          << f.rules.departure_from.ToString() << '\t' << f.rules.departure_margin.count() << "m\t"
          << f.rules.double_tap_window.count() << "s\t" << f.rules.closing_time.ToString() << '\t'
          << f.rules.closing_grace.count() << "m\t" << f.rules.late_after.count() << "s\t"
          << f.opens.ToString() << '\n';
    }
  });
  auto* fsetcmd = facility->add_subcommand("set", "change a facility's name or engine parameters");
  fsetcmd->add_option("code", fcode, "facility code")->required();
  AddFacilityFlags(fsetcmd, fset);
  fsetcmd->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    run((*admin)->FacilitySet(fcode, fset));
    if (status.ok()) out << "facility " << fcode << " updated\n";
  });

  // agent
  auto* agent = app.add_subcommand("agent", "facility PCs (reader agents) and their certificates");
  agent->require_subcommand(1);
  EnrollOptions enroll;
  std::string csr;
  auto* aenroll = agent->add_subcommand("enroll", "issue an agent's client certificate and bundle");
  aenroll->add_option("--facility", enroll.facility_code, "facility code")->required();
  aenroll->add_option("--name", enroll.name, "agent name (the certificate's CN)")->required();
  aenroll->add_option("--out", enroll.out_dir, "folder for the bundle")->required();
  aenroll->add_option("--csr", csr,
                      "certify this CSR's key (the key never leaves the facility PC)");
  aenroll->add_option("--server-url", enroll.server_url, "server URL written to agent.toml")
      ->capture_default_str();
  aenroll->callback([&] {
    if (!csr.empty()) enroll.csr = csr;
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto r = (*admin)->AgentEnroll(enroll);
    if (!r.ok()) return run(r.status());
    out << "agent " << enroll.name << " enrolled (id " << r->agent.value << ", certificate sha256 "
        << r->cert_sha256 << "); bundle in " << enroll.out_dir.string() << "\n";
  });
  std::string aname;
  for (auto [verb, st, help] :
       {std::tuple{"revoke", store::AgentStatus::kRevoked, "revoke an agent (permanent)"},
        std::tuple{"disable", store::AgentStatus::kDisabled, "disable an agent"},
        std::tuple{"enable", store::AgentStatus::kActive, "re-enable a disabled agent"}}) {
    auto* cmd = agent->add_subcommand(verb, help);
    cmd->add_option("name", aname, "agent name")->required();
    cmd->callback([&, st = st, verb = std::string(verb)] {
      auto admin = open();
      if (!admin.ok()) return run(admin.status());
      run((*admin)->AgentSetStatus(aname, st));
      if (status.ok())
        out << "agent " << aname << ": " << store::kAgentStatusNames.Name(st) << "\n";
    });
  }
  auto* alist = agent->add_subcommand("list", "list agents with last contact, skew and health");
  alist->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto list = (*admin)->AgentList();
    if (!list.ok()) return run(list.status());
    out << "name\tfacility\tstatus\tlast_contact\tskew\tacked_through\tgap\thealth\n";
    for (const auto& a : *list) {
      out << a.name << '\t' << a.facility.value << '\t' << store::kAgentStatusNames.Name(a.status)
          << '\t' << FormatOptTime(a.last_contact) << '\t' << a.skew_ms << "ms"
          << (a.skew_flagged() ? " (SKEW)" : "") << '\t' << a.acked_through << '\t'
          << (a.gap ? std::to_string(a.gap->from) + "-" + std::to_string(a.gap->to)
                    : std::string("-"))
          << '\t' << HealthSummary(a.last_health_json) << '\n';
    }
  });

  // child
  auto* child = app.add_subcommand("child", "children");
  child->require_subcommand(1);
  std::string cfacility, cname, cexpected;
  auto* cadd = child->add_subcommand("add", "add a child; prints its id");
  cadd->add_option("--facility", cfacility, "facility code")->required();
  cadd->add_option("--name", cname, "display name used in mails")->required();
  cadd->add_option("--expected-departure", cexpected, "per weekday, e.g. mon=17:30,wed=18:00");
  cadd->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto id = (*admin)->ChildAdd(cfacility, cname, cexpected);
    if (!id.ok()) return run(id.status());
    out << id->value << "\n";
  });

  // card
  auto* card = app.add_subcommand("card", "cards");
  card->require_subcommand(1);
  std::int64_t card_child = 0;
  std::string idm, token;
  auto* cassign =
      card->add_subcommand("assign", "bind a card to a child (retires the child's previous card)");
  cassign->add_option("--child", card_child, "child id")->required();
  cassign->add_option("--idm", idm, "the card's IDm, 16 hex digits (not stored)")->required();
  cassign->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto t = (*admin)->CardAssign(ChildId{card_child}, idm);
    if (!t.ok()) return run(t.status());
    out << t->hex() << "\n";
  });
  auto* clost = card->add_subcommand("lost", "mark a card lost (its taps raise an alert)");
  auto* by_token = clost->add_option("--token", token, "card token");
  clost->add_option("--child", card_child, "child id (its active card)")->excludes(by_token);
  clost->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    if (!token.empty()) {
      auto t = CardToken::Parse(token);
      if (!t.ok()) return run(Status::InvalidArgument("token: " + t.status().message()));
      run((*admin)->CardLost(*t));
      if (status.ok()) out << "card " << t->hex() << " marked lost\n";
    } else if (card_child != 0) {
      auto t = (*admin)->CardLostOfChild(ChildId{card_child});
      if (!t.ok()) return run(t.status());
      out << "card " << t->hex() << " marked lost\n";
    } else {
      run(Status::InvalidArgument("give --token or --child"));
    }
  });

  // guardian
  auto* guardian = app.add_subcommand("guardian", "guardians' mail addresses");
  guardian->require_subcommand(1);
  GuardianOptions gopt;
  std::int64_t gchild = 0, gid = 0;
  bool no_arrival = false, no_departure = false;
  std::string code;
  auto* gadd =
      guardian->add_subcommand("add", "add an unverified address and queue its verification mail");
  gadd->add_option("--child", gchild, "child id")->required();
  gadd->add_option("--email", gopt.email, "mail address")->required();
  gadd->add_flag("--no-arrival", no_arrival, "no arrival mails");
  gadd->add_flag("--no-departure", no_departure, "no departure mails");
  gadd->add_flag("--iso-2022-jp", gopt.iso_2022_jp, "ISO-2022-JP mails for old handsets");
  gadd->callback([&] {
    gopt.child = ChildId{gchild};
    gopt.arrival = !no_arrival;
    gopt.departure = !no_departure;
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    auto t = (*admin)->GuardianAdd(gopt);
    if (!t.ok()) return run(t.status());
    out << t->guardian.value << "\n";
  });
  auto* gverify = guardian->add_subcommand(
      "verify", "enter the code the guardian read from the verification mail");
  gverify->add_option("--guardian", gid, "guardian id")->required();
  gverify->add_option("--code", code, "the 6-digit code")->required();
  gverify->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    run((*admin)->GuardianVerify(GuardianId{gid}, code));
    if (status.ok()) out << "guardian " << gid << " verified\n";
  });

  // audit
  auto* audit = app.add_subcommand("audit", "the audit log");
  audit->require_subcommand(1);
  auto* averify = audit->add_subcommand("verify", "check the audit log's hash chain");
  averify->callback([&] {
    auto admin = open();
    if (!admin.ok()) return run(admin.status());
    run((*admin)->AuditVerify());
    if (status.ok()) out << "audit log chain verifies\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (!status.ok()) {
    err << "anshin-admin: " << status.ToString() << "\n";
    return status.code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace anshin::admin
