// anshin-admin agent enroll|revoke|disable|enable|list.
#include <nlohmann/json.hpp>
#include <tuple>

#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct AgentOptions {
  EnrollOptions enroll;
  std::string csr;
  std::string name;
};

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
              << ", certificate sha256 " << r->cert_sha256 << "); bundle in "
              << o.enroll.out_dir.string() << "\n";
  });

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

  auto* list = agent->add_subcommand("list", "list agents with last contact, skew and health");
  list->callback([&cli] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto agents = (*admin)->AgentList();
    if (!agents.ok()) return cli.Run(agents.status());
    auto& out = cli.out();
    out << "name\tfacility\tstatus\tlast_contact\tskew\tacked_through\tgap\thealth\n";
    for (const auto& a : *agents) {
      out << a.name << '\t' << a.facility.value << '\t' << store::kAgentStatusNames.Name(a.status)
          << '\t' << FormatOptTime(a.last_contact) << '\t' << a.skew_ms << "ms"
          << (a.skew_flagged() ? " (SKEW)" : "") << '\t' << a.acked_through << '\t'
          << (a.gap ? std::to_string(a.gap->from) + "-" + std::to_string(a.gap->to)
                    : std::string("-"))
          << '\t' << HealthSummary(a.last_health_json) << '\n';
    }
  });
}

}  // namespace anshin::admin
