// anshin-admin child add|list|search|show|update|withdraw.
#include <limits>
#include <map>

#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct ChildOptions {
  ChildInput in;
  std::string number;
  int grade = 0;
  std::string facility, query, format, reason;
  bool all = false;
  bool withdrawn = false;
  std::int64_t child = 0;
  ChildChanges changes;
  std::string date, to;
};

nlohmann::json Optional(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// "mon 17:30, wed 18:00" (empty when none is set).
std::string DeparturesText(const ChildSchedule& s) {
  static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::string out;
  for (int i = 1; i <= 7; ++i) {
    int d = i % 7;
    if (!s.expected_departure[d]) continue;
    if (!out.empty()) out += ", ";
    out += std::string(kDays[d]) + " " + s.expected_departure[d]->ToString();
  }
  return out;
}

// The children as the first column of every child listing wants them: id first.
void PrintChildren(Cli& cli, Admin& admin, const std::vector<store::Child>& children,
                   const std::string& format) {
  auto facilities = admin.inquiries().Facilities();
  if (!facilities.ok()) return cli.Run(facilities.status());
  std::map<std::int64_t, std::string> codes;
  for (const auto& f : *facilities) codes[f.id.value] = f.code;
  Listing l{{"id", "number", "name", "kana", "facility", "grade", "attends", "status"}, {}};
  for (const auto& c : children) {
    l.Add({c.id.value, Optional(c.number), c.name, c.kana, codes[c.facility.value],
           c.grade ? nlohmann::json(*c.grade) : nlohmann::json(nullptr),
           services::FormatWeekdays(c.attend_days),
           std::string(store::kChildStatusNames.Name(c.status))});
  }
  cli.Print(l, format);
  if (format.empty() || format == "table") {
    cli.err() << children.size() << (children.size() == 1 ? " child" : " children") << "\n";
  }
}

void ShowChild(Cli& cli, Admin& admin, const services::ChildRecord& r, const std::string& format) {
  auto zone = admin.ZoneOf(r.facility);
  if (!zone.ok()) return cli.Run(zone.status());
  const store::Child& c = r.child;
  if (format == "json" || format == "csv") {
    nlohmann::json j{{"id", c.id.value},
                     {"number", Optional(c.number)},
                     {"name", c.name},
                     {"kana", c.kana},
                     {"facility", r.facility.code},
                     {"grade", c.grade ? nlohmann::json(*c.grade) : nlohmann::json(nullptr)},
                     {"attends", services::FormatWeekdays(c.attend_days)},
                     {"expected_departure", DeparturesText(c.schedule)},
                     {"status", store::kChildStatusNames.Name(c.status)},
                     {"cards", nlohmann::json::array()},
                     {"guardians", nlohmann::json::array()}};
    for (const auto& k : r.cards) {
      j["cards"].push_back({{"token", k.token.hex()},
                            {"status", CardStatusName(k.status)},
                            {"issued_at", TimeCell(k.issued_at, **zone)}});
    }
    for (const auto& g : r.guardians) {
      j["guardians"].push_back({{"id", g.guardian.id.value},
                                {"email", g.guardian.email},
                                {"verified", g.guardian.verified},
                                {"arrival", g.guardian.wants_arrival},
                                {"departure", g.guardian.wants_departure},
                                {"bouncing", g.guardian.bouncing}});
    }
    cli.out() << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  auto& out = cli.out();
  out << "child " << c.id.value << "  " << c.name;
  if (!c.kana.empty()) out << " (" << c.kana << ")";
  out << "\n";
  auto field = [&out](const char* name, const std::string& value) {
    out << "  " << name << std::string(12 - std::string_view(name).size(), ' ')
        << (value.empty() ? "-" : value) << "\n";
  };
  field("number", c.number.value_or(""));
  field("facility", r.facility.code + " (" + r.facility.name + ")");
  field("grade", c.grade ? std::to_string(*c.grade) : "");
  field("attends", services::FormatWeekdays(c.attend_days));
  field("departure", DeparturesText(c.schedule));
  field("status", std::string(store::kChildStatusNames.Name(c.status)));
  if (r.cards.empty()) field("cards", "");
  for (const auto& k : r.cards) {
    field("card", TokenCell(k.token) + " " + std::string(CardStatusName(k.status)) + ", issued " +
                      FormatRfc3339(k.issued_at, **zone));
  }
  if (r.guardians.empty()) field("guardians", "");
  for (const auto& g : r.guardians) {
    std::string notices;
    if (g.guardian.wants_arrival) notices += "arrival";
    if (g.guardian.wants_departure) notices += notices.empty() ? "departure" : "+departure";
    field("guardian", std::to_string(g.guardian.id.value) + " " + g.guardian.email + " " +
                          (g.guardian.verified ? "verified" : "not verified") + ", " +
                          (notices.empty() ? "no notices" : notices) +
                          (g.guardian.bouncing ? ", BOUNCING" : ""));
  }
}

// child update and child withdraw.
void AddChildChangeCommands(Cli& cli, CLI::App* child, ChildOptions& o) {
  auto* update = child->add_subcommand(
      "update",
      "change a child's record: only the fields given change (\"child 12 updated: "
      "name, grade\")");
  update->add_option("--child", o.child, "child id")->required();
  update->add_option("--name", o.changes.name, "display name used in mails");
  update->add_option("--kana", o.changes.kana, "reading of the name (ふりがな)");
  update->add_option("--grade", o.changes.grade, "school grade, 1 to 6");
  update->add_option("--number", o.changes.number, "the ward's child number (unique)");
  update->add_option("--facility", o.changes.facility_code, "facility code");
  update->add_option("--days,--attends", o.changes.attends, "days of attendance, e.g. mon,tue,thu");
  static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (int d = 0; d < 7; ++d) {
    update->add_option(std::string("--departure-") + kDays[d], o.changes.departures[d],
                       std::string("expected departure on ") + kDays[d] + ": HH:MM or none");
  }
  update->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto changed = (*admin)->ChildUpdate(ChildId{o.child}, o.changes);
    if (!changed.ok()) return cli.Run(changed.status());
    std::string fields = *changed;
    for (std::size_t i = 0; (i = fields.find(',', i)) != std::string::npos; i += 2) {
      fields.replace(i, 1, ", ");
    }
    cli.out() << "child " << o.child << (fields.empty() ? " unchanged" : " updated: " + fields)
              << "\n";
  });

  auto* withdraw = child->add_subcommand(
      "withdraw",
      "withdraw a child: every card retired, no more mail, personal data purged "
      "after the grace period");
  withdraw->add_option("--child", o.child, "child id")->required();
  withdraw->add_option("--date", o.date, "withdrawn from this day on (YYYY-MM-DD; default now)");
  auto* absent = child->add_subcommand(
      "absent", "record a guardian's call: the child will not come (no not_arrived alert)");
  absent->add_option("--child", o.child, "child id")->required();
  absent->add_option("--date", o.date, "the day (YYYY-MM-DD), or the first of a range")->required();
  absent->add_option("--to", o.to, "the last day of the range (YYYY-MM-DD)");
  absent->add_option("--reason", o.reason, "what the guardian said (optional)");
  absent->callback([&cli, &o] {
    auto from = LocalDate::Parse(o.date);
    if (!from.ok()) return cli.Run(Status::InvalidArgument("--date: " + from.status().message()));
    auto to = o.to.empty() ? from : LocalDate::Parse(o.to);
    if (!to.ok()) return cli.Run(Status::InvalidArgument("--to: " + to.status().message()));
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto id = (*admin)->ChildAbsent(ChildId{o.child}, *from, *to, o.reason);
    if (!id.ok()) return cli.Run(id.status());
    cli.out() << "child " << o.child << " absent " << o.date << (o.to.empty() ? "" : " to " + o.to)
              << " (absence " << *id << ")\n";
  });

  withdraw->callback([&cli, &o] {
    auto date = ParseDateOption(o.date);
    if (!date.ok()) return cli.Run(date.status());
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto retired = (*admin)->ChildWithdraw(ChildId{o.child}, *date);
    if (!retired.ok()) return cli.Run(retired.status());
    cli.out() << "child " << o.child << " withdrawn" << (o.date.empty() ? "" : " from " + o.date)
              << ", " << *retired << (*retired == 1 ? " card" : " cards") << " retired\n";
  });
}

}  // namespace

void AddChildCommands(Cli& cli) {
  auto& o = cli.Keep<ChildOptions>();
  auto* child = cli.app().add_subcommand("child", "children");
  child->require_subcommand(1);

  auto* add = child->add_subcommand(
      "add", "add a child: prints \"child 12 added (name, facility)\" (--format id: the id)");
  add->add_option("--facility", o.in.facility_code, "facility code")->required();
  add->add_option("--name", o.in.name, "display name used in mails")->required();
  add->add_option("--expected-departure", o.in.expected_departure,
                  "per weekday, e.g. mon=17:30,wed=18:00");
  auto* number = add->add_option("--number", o.number, "the ward's child number (unique)");
  add->add_option("--kana", o.in.kana, "reading of the name (ふりがな)");
  auto* grade = add->add_option("--grade", o.grade, "school grade, 1 to 6");
  add->add_option("--attends", o.in.attends, "days of attendance, e.g. mon,tue,thu");
  add->add_option("--format", o.format, "text (the default) or id (the bare id, for scripts)")
      ->check(CLI::IsMember({"text", "id"}));
  add->callback([&cli, &o, number, grade] {
    if (number->count() > 0) o.in.number = o.number;
    if (grade->count() > 0) o.in.grade = o.grade;
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto id = (*admin)->ChildAdd(o.in);
    if (!id.ok()) return cli.Run(id.status());
    if (o.format == "id") {
      cli.out() << id->value << "\n";
    } else {
      cli.out() << "child " << id->value << " added (" << o.in.name << ", " << o.in.facility_code
                << ")\n";
    }
  });

  // list and search share the listing; search needs the text.
  auto find = [&cli, &o](bool need_query) {
    if (need_query && o.query.empty()) return cli.Run(Status::InvalidArgument("give --query"));
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    store::ChildQuery q;
    q.text = o.query;
    if (!o.facility.empty()) {
      auto f = (*admin)->inquiries().FacilityByCode(o.facility);
      if (!f.ok()) return cli.Run(f.status());
      q.facility = f->id;
    }
    q.withdrawn_too = o.all || o.withdrawn;
    // Withdrawn children are picked from every child: the store's limit must not cut them off.
    if (o.withdrawn) q.limit = std::numeric_limits<int>::max();
    auto found = (*admin)->inquiries().FindChildren(q, (*admin)->Who());
    if (!found.ok()) return cli.Run(found.status());
    if (o.withdrawn) {
      std::erase_if(
          *found, [](const store::Child& c) { return c.status != store::ChildStatus::kWithdrawn; });
    }
    PrintChildren(cli, **admin, *found, o.format);
  };
  auto* list = child->add_subcommand("list", "list enrolled children (id first)");
  list->add_option("--facility", o.facility, "only this facility's children (code)");
  list->add_flag("--all", o.all, "withdrawn children too");
  list->add_flag("--withdrawn", o.withdrawn, "withdrawn children only");
  Cli::AddFormatOption(list, o.format);
  list->callback([find] { find(false); });

  auto* search = child->add_subcommand(
      "search", "find children by name, kana, child number, facility code or card token prefix");
  search->add_option("--query", o.query, "text to look for")->required();
  search->add_option("--facility", o.facility, "only this facility's children (code)");
  search->add_flag("--all", o.all, "withdrawn children too");
  Cli::AddFormatOption(search, o.format);
  search->callback([find] { find(true); });

  auto* show = child->add_subcommand(
      "show", "a child's record: cards, guardians (masked); the view is audited");
  show->add_option("child", o.child, "child id")->required();
  show->add_option("--reason", o.reason, "why you look (written to the audit log)");
  show->add_option("--format", o.format, "text (the default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  show->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto r = (*admin)->inquiries().ShowChild(ChildId{o.child}, (*admin)->Who(), o.reason);
    if (!r.ok()) return cli.Run(r.status());
    ShowChild(cli, **admin, *r, o.format);
  });

  AddChildChangeCommands(cli, child, o);
}

}  // namespace anshin::admin
