// anshin-admin alert list|ack.
#include <map>

#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct AlertOptions {
  bool open = false;
  std::string facility, format, note;
  std::int64_t id = 0;
};

}  // namespace

void AddAlertCommands(Cli& cli) {
  auto& o = cli.Keep<AlertOptions>();
  auto* alert = cli.app().add_subcommand("alert", "alerts raised for staff");
  alert->require_subcommand(1);

  auto* list = alert->add_subcommand("list", "alerts, newest last");
  list->add_flag("--open", o.open, "only those not acknowledged yet");
  list->add_option("--facility", o.facility, "only this facility's (code)");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto& inquiries = (*admin)->inquiries();
    std::optional<FacilityId> facility;
    if (!o.facility.empty()) {
      auto f = inquiries.FacilityByCode(o.facility);
      if (!f.ok()) return cli.Run(f.status());
      facility = f->id;
    }
    auto facilities = inquiries.Facilities();
    if (!facilities.ok()) return cli.Run(facilities.status());
    std::map<std::int64_t, std::string> codes;
    for (const auto& f : *facilities) codes[f.id.value] = f.code;
    auto alerts = inquiries.Alerts(o.open, facility);
    if (!alerts.ok()) return cli.Run(alerts.status());
    auto zone = DeploymentZone(**admin);
    Listing l{{"id", "kind", "facility", "child", "at", "detail", "acknowledged", "by", "note"},
              {}};
    for (const auto& a : *alerts) {
      l.Add({a.id, std::string(AlertKindName(a.kind)),
             a.facility ? nlohmann::json(codes[a.facility->value]) : nlohmann::json(nullptr),
             a.child ? nlohmann::json(a.child->value) : nlohmann::json(nullptr),
             TimeCell(a.at, *zone), a.detail,
             a.acknowledged ? TimeCell(a.acknowledged_at, *zone) : nlohmann::json(false),
             a.acknowledged_by, a.ack_note});
    }
    cli.Print(l, o.format);
  });

  auto* ack = alert->add_subcommand("ack", "acknowledge an alert, saying what was done");
  ack->add_option("id", o.id, "alert id")->required();
  ack->add_option("--note", o.note, "what was done (kept with the alert)")->required();
  ack->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto a = (*admin)->inquiries().AcknowledgeAlert(o.id, o.note, (*admin)->Who());
    if (!a.ok()) return cli.Run(a.status());
    cli.out() << "alert " << a->id << " (" << AlertKindName(a->kind) << ") acknowledged by "
              << a->acknowledged_by << "\n";
  });
}

}  // namespace anshin::admin
