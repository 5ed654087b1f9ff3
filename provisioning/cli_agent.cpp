// anshin-admin agent enroll|renew|revoke|disable|enable|list|skew|accept-gap.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/sys/sys.hpp"
#include "common/wire.hpp"
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct AgentOptions {
  EnrollOptions enroll;
  RenewOptions renew;
  std::string csr;
  std::string renew_csr;
  std::string name;
  std::string since = "7d";
  std::string format;
};

// "3 h ago", "12 min ago", "2 d ago" (whole units, rounded down).
std::string Ago(Millis age) {
  using std::chrono::duration_cast;
  if (age < Millis(0)) return "in the future";
  const auto minutes = duration_cast<std::chrono::minutes>(age).count();
  if (minutes < 1) return "just now";
  if (minutes < 60) return std::to_string(minutes) + " min ago";
  const auto hours = minutes / 60;
  if (hours < 48) return std::to_string(hours) + " h ago";
  return std::to_string(hours / 24) + " d ago";
}

// "17:40, 3 h ago" (today in `zone`) or "2026-12-01 17:40, 2 d ago"; "never" when unset.
std::string WhenAgo(const std::optional<TimePoint>& t, TimePoint now, const TimeZone& zone) {
  if (!t) return "never";
  const LocalDateTime local = zone.ToLocal(*t);
  std::string out = local.date == zone.DateOf(now)
                        ? local.time.ToString()
                        : local.date.ToString() + " " + local.time.ToString();
  return out + ", " + Ago(std::chrono::duration_cast<Millis>(now - *t));
}

// "reader ok, queue 2, as of 17:40, 3 h ago": the agent's last report with the time it was
// reported (its upload: every stored report is the last contact's), never as if current.
std::string HealthCell(const store::Agent& a, TimePoint now, const TimeZone& zone) {
  if (a.last_health_json.empty()) return "-";
  auto h = wire::ParseHealth(a.last_health_json);
  if (!h.ok()) return "?";
  std::string out = "reader " + (h->reader_state.empty() ? std::string("?") : h->reader_state);
  if (!h->reader_error.empty()) out += " (" + h->reader_error + ")";
  out += ", queue " + std::to_string(h->queue_depth);
  if (h->rejected_batches > 0) out += ", " + std::to_string(h->rejected_batches) + " refused";
  return out + ", as of " + WhenAgo(a.last_contact, now, zone);
}

// "until 2027-12-01, 364 d" / "expired 2026-12-01, 2 d ago"; "-" when the expiry is unknown
// (enrolled before it was recorded: renew to record it).
std::string CertCell(const store::Agent& a, TimePoint now, const TimeZone& zone) {
  if (!a.cert_not_after) return "-";
  const std::string date = zone.DateOf(*a.cert_not_after).ToString();
  if (*a.cert_not_after <= now)
    return "expired " + date + ", " +
           Ago(std::chrono::duration_cast<Millis>(now - *a.cert_not_after));
  const auto days =
      std::chrono::duration_cast<std::chrono::hours>(*a.cert_not_after - now).count() / 24;
  return "until " + date + ", " + std::to_string(days) + " d";
}

std::string SkewCell(std::int64_t skew_ms) {
  const bool flagged =
      skew_ms > store::kSkewFlagThreshold.count() || skew_ms < -store::kSkewFlagThreshold.count();
  return std::to_string(skew_ms) + " ms" + (flagged ? " (SKEW)" : "");
}

// --since: a duration back from now ("7d", "12h") or a date ("2026-12-01", its start in `zone`).
Result<TimePoint> ParseSince(const std::string& text, TimePoint now, const TimeZone& zone) {
  if (auto date = LocalDate::Parse(text); date.ok()) return zone.At(*date, LocalTime{0});
  auto d = sys::ParseDuration(text);
  if (!d.ok() || *d < Millis(0)) {
    return Status::InvalidArgument("since: \"" + text +
                                   "\" is neither a duration (7d, 12h) nor a date (YYYY-MM-DD)");
  }
  return now - *d;
}

Result<std::shared_ptr<const TimeZone>> ZoneOfAgent(Admin& admin, const store::Agent& a) {
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, store::InRead(admin.store(), [&](store::ReadTxn& t) {
                            return t.facilities().Get(a.facility);
                          }));
  return admin.ZoneOf(f);
}

void AddListCommand(CLI::App* agent, Cli& cli, AgentOptions& o) {
  auto* list = agent->add_subcommand(
      "list", "list agents: last contact, skew, health and certificate, each with its time");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto agents = (*admin)->AgentList();
    if (!agents.ok()) return cli.Run(agents.status());
    auto facilities = (*admin)->FacilityList();
    if (!facilities.ok()) return cli.Run(facilities.status());
    std::map<std::int64_t, std::pair<std::string, std::shared_ptr<const TimeZone>>> by_id;
    for (const store::Facility& f : *facilities) {
      auto zone = (*admin)->ZoneOf(f);
      if (!zone.ok()) return cli.Run(zone.status());
      by_id[f.id.value] = {f.code, *zone};
    }
    const TimePoint now = (*admin)->Who().at;
    Listing l;
    l.columns = {"name",          "facility", "status", "last_contact", "skew",
                 "acked_through", "gap",      "health", "certificate"};
    for (const store::Agent& a : *agents) {
      // The facility board's own uploader (no certificate) is no PC: not listed.
      if (a.cert_sha256.empty()) continue;
      const auto& [code, zone] = by_id[a.facility.value];
      l.Add({a.name, code, std::string(store::kAgentStatusNames.Name(a.status)),
             WhenAgo(a.last_contact, now, *zone), SkewCell(a.skew_ms), a.acked_through,
             a.gap ? nlohmann::json(std::to_string(a.gap->from) + "-" + std::to_string(a.gap->to))
                   : nlohmann::json(nullptr),
             HealthCell(a, now, *zone), CertCell(a, now, *zone)});
    }
    cli.Print(l, o.format);
  });
}

void AddRenewCommand(CLI::App* agent, Cli& cli, AgentOptions& o) {
  auto* renew = agent->add_subcommand(
      "renew", "issue a new key and certificate for an agent; its old certificate stops working");
  renew->add_option("--agent", o.renew.name, "agent name")->required();
  renew->add_option("--out", o.renew.out_dir,
                    "folder for agent.key, agent.crt and ca.crt (default: ./NAME)");
  renew->add_option("--days", o.renew.days, "validity in days (1 to 825)")->capture_default_str();
  renew->add_option("--csr", o.renew_csr,
                    "certify this CSR's key (the key never leaves the facility PC)");
  renew->callback([&cli, &o] {
    if (!o.renew_csr.empty()) o.renew.csr = o.renew_csr;
    if (o.renew.out_dir.empty()) o.renew.out_dir = o.renew.name;
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto r = (*admin)->AgentRenew(o.renew);
    if (!r.ok()) return cli.Run(r.status());
    cli.out() << "agent " << o.renew.name << " renewed: certificate sha256 " << r->cert_sha256
              << ", valid until " << FormatRfc3339(r->cert_not_after) << "; files in "
              << o.renew.out_dir.string() << "\nthe old certificate (sha256 " << r->old_cert_sha256
              << ") is refused from now on: copy agent.crt" << (o.renew.csr ? "" : " and agent.key")
              << " to the PC and restart anshin-agent\n";
  });
}

void AddSkewCommand(CLI::App* agent, Cli& cli, AgentOptions& o) {
  auto* skew = agent->add_subcommand("skew", "an agent's clock-skew history (kept 90 days)");
  skew->add_option("--agent", o.name, "agent name")->required();
  skew->add_option("--since", o.since, "a duration back from now (7d, 12h) or a date")
      ->capture_default_str();
  Cli::AddFormatOption(skew, o.format);
  skew->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto a = (*admin)->AgentList();
    if (!a.ok()) return cli.Run(a.status());
    auto it =
        std::find_if(a->begin(), a->end(), [&](const store::Agent& x) { return x.name == o.name; });
    if (it == a->end()) return cli.Run(Status::NotFound("agent " + o.name));
    auto zone = ZoneOfAgent(**admin, *it);
    if (!zone.ok()) return cli.Run(zone.status());
    auto since = ParseSince(o.since, (*admin)->Who().at, **zone);
    if (!since.ok()) return cli.Run(since.status());
    auto samples = (*admin)->AgentSkew(o.name, *since);
    if (!samples.ok()) return cli.Run(samples.status());
    Listing l;
    l.columns = {"at", "skew_ms", "flagged"};
    for (const store::SkewSample& s : *samples) {
      l.Add({TimeCell(s.at, **zone), s.skew_ms,
             s.skew_ms > store::kSkewFlagThreshold.count() ||
                 s.skew_ms < -store::kSkewFlagThreshold.count()});
    }
    cli.Print(l, o.format);
  });
}

void AddAcceptGapCommand(CLI::App* agent, Cli& cli, AgentOptions& o) {
  auto* gap = agent->add_subcommand(
      "accept-gap",
      "accept an agent's missing taps as lost (after a server restore), so its queue drains");
  gap->add_option("--agent", o.name, "agent name")->required();
  gap->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto before = (*admin)->AgentList();
    if (!before.ok()) return cli.Run(before.status());
    std::optional<wire::SeqGap> accepted;
    for (const store::Agent& a : *before) {
      if (a.name == o.name) accepted = a.gap;
    }
    auto after = (*admin)->AgentAcceptGap(o.name);
    if (!after.ok()) return cli.Run(after.status());
    if (accepted) {
      cli.out() << "agent " << o.name << ": seqs " << accepted->from << ".." << accepted->to
                << " accepted as lost; ";
    }
    cli.out() << "acknowledged through " << after->acked_through;
    if (after->gap) {
      cli.out() << "; next gap " << after->gap->from << ".." << after->gap->to;
    }
    cli.out() << "\n";
  });
}

}  // namespace

void AddAgentCommands(Cli& cli) {
  auto& o = cli.Keep<AgentOptions>();
  auto* agent =
      cli.app().add_subcommand("agent", "facility PCs (reader agents) and their certificates");
  agent->require_subcommand(1);

  auto* enroll = agent->add_subcommand("enroll", "issue an agent's client certificate and bundle");
  enroll->add_option("--facility", o.enroll.facility_code, "facility code")->required();
  enroll->add_option("--name", o.enroll.name, "agent name (the certificate's CN)")->required();
  enroll->add_option("--out", o.enroll.out_dir, "folder for the bundle")->required();
  enroll->add_option("--csr", o.csr,
                     "certify this CSR's key (the key never leaves the facility PC)");
  enroll->add_option("--server-url", o.enroll.server_url, "server URL written to agent.toml")
      ->capture_default_str();
  enroll->callback([&cli, &o] {
    if (!o.csr.empty()) o.enroll.csr = o.csr;
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto r = (*admin)->AgentEnroll(o.enroll);
    if (!r.ok()) return cli.Run(r.status());
    cli.out() << "agent " << o.enroll.name << " enrolled (id " << r->agent.value
              << ", certificate sha256 " << r->cert_sha256 << ", valid until "
              << FormatRfc3339(r->cert_not_after) << "); bundle in " << o.enroll.out_dir.string()
              << "\n";
  });
  AddRenewCommand(agent, cli, o);

  for (auto [verb, st, help] :
       {std::tuple{"revoke", store::AgentStatus::kRevoked, "revoke an agent (permanent)"},
        std::tuple{"disable", store::AgentStatus::kDisabled, "disable an agent"},
        std::tuple{"enable", store::AgentStatus::kActive, "re-enable a disabled agent"}}) {
    auto* cmd = agent->add_subcommand(verb, help);
    cmd->add_option("name", o.name, "agent name")->required();
    cmd->callback([&cli, &o, st = st] {
      auto admin = cli.Open();
      if (!admin.ok()) return cli.Run(admin.status());
      cli.Run((*admin)->AgentSetStatus(o.name, st));
      if (cli.ok())
        cli.out() << "agent " << o.name << ": " << store::kAgentStatusNames.Name(st) << "\n";
    });
  }

  AddListCommand(agent, cli, o);
  AddSkewCommand(agent, cli, o);
  AddAcceptGapCommand(agent, cli, o);
}

}  // namespace anshin::admin
