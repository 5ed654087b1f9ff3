// anshin-admin report sendlog|attendance: the ward's monthly CSV files (services/reports.hpp),
// UTF-8 with a BOM and CRLF line ends so that Excel opens them as they are.
#include <sstream>

#include "common/sys/sys.hpp"
#include "provisioning/cli.hpp"
#include "services/reports.hpp"

namespace anshin::admin {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

struct ReportOptions {
  std::string month, facility, out;
};

Status WriteReport(const std::string& path, const Listing& listing) {
  std::ostringstream text;
  text << kUtf8Bom;
  WriteListing(listing, OutputFormat::kCsv, text);
  // The attendance report names children: readable by the operator only.
  return sys::WriteFileAtomic(
             path, text.str(),
             std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
      .WithContext("--out");
}

void RunSendLog(Cli& cli, const ReportOptions& o) {
  auto month = services::ParseMonth(o.month);
  if (!month.ok()) return cli.Run(month.status());
  auto admin = cli.Open();
  if (!admin.ok()) return cli.Run(admin.status());
  Admin& a = **admin;
  std::shared_ptr<const TimeZone> zone = DeploymentZone(a);
  services::ZoneLoader zones = [&a](const std::string& name) {
    store::Facility f;
    f.tz_name = name;
    return a.ZoneOf(f);
  };
  auto lines = services::SendLogReport(a.store(), *month, *zone, zones, a.Who());
  if (!lines.ok()) return cli.Run(lines.status());
  Listing l{{"time", "facility", "child_number", "kind", "result", "reply_code"}, {}};
  for (const services::SendLogLine& s : *lines) {
    l.Add({s.time, s.facility, s.child_number, s.kind, s.result,
           s.smtp_code == 0 ? nlohmann::json("") : nlohmann::json(s.smtp_code)});
  }
  if (Status s = WriteReport(o.out, l); !s.ok()) return cli.Run(s);
  cli.out() << "send log of " << month->ToString() << ": " << lines->size()
            << (lines->size() == 1 ? " attempt" : " attempts") << " written to " << o.out << "\n";
}

void RunAttendance(Cli& cli, const ReportOptions& o) {
  auto month = services::ParseMonth(o.month);
  if (!month.ok()) return cli.Run(month.status());
  auto admin = cli.Open();
  if (!admin.ok()) return cli.Run(admin.status());
  Admin& a = **admin;
  auto f = a.inquiries().FacilityByCode(o.facility);
  if (!f.ok()) return cli.Run(f.status());
  auto zone = a.ZoneOf(*f);
  if (!zone.ok()) return cli.Run(zone.status());
  auto lines = services::AttendanceReport(a.store(), *month, *f, **zone, a.Who());
  if (!lines.ok()) return cli.Run(lines.status());
  Listing l{{"date", "child_number", "name", "arrival", "departure", "visits", "inferred",
             "corrected", "late"},
            {}};
  for (const services::AttendanceLine& d : *lines) {
    l.Add({d.date.ToString(), d.child_number, d.name, d.arrival, d.departure, d.visits, d.inferred,
           d.corrected, d.late});
  }
  if (Status s = WriteReport(o.out, l); !s.ok()) return cli.Run(s);
  cli.out() << "attendance of " << o.facility << " in " << month->ToString() << ": "
            << lines->size() << (lines->size() == 1 ? " child-day" : " child-days")
            << " written to " << o.out << "\n";
}

}  // namespace

void AddReportCommands(Cli& cli) {
  auto& o = cli.Keep<ReportOptions>();
  auto* report = cli.app().add_subcommand("report", "the ward's monthly CSV reports (Excel)");
  report->require_subcommand(1);

  auto* sendlog = report->add_subcommand(
      "sendlog",
      "every send attempt of the month: time, facility, child number, kind, result, "
      "relay reply code (no addresses)");
  sendlog->add_option("--month", o.month, "YYYY-MM")->required();
  sendlog->add_option("--out", o.out, "CSV file to write")->required();
  sendlog->callback([&cli, &o] { RunSendLog(cli, o); });

  auto* attendance = report->add_subcommand(
      "attendance",
      "per child and day of a facility: arrival, departure, inferred/corrected, "
      "late");
  attendance->add_option("--month", o.month, "YYYY-MM")->required();
  attendance->add_option("--facility", o.facility, "facility code")->required();
  attendance->add_option("--out", o.out, "CSV file to write")->required();
  attendance->callback([&cli, &o] { RunAttendance(cli, o); });
}

}  // namespace anshin::admin
