// anshin-replay DAYFILE: judges a scripted day with the real engine and prints, in Japanese,
// each decision and the mail each guardian would receive. No storage, no network.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "common/day_script.hpp"
#include "common/mail/templates.hpp"
#include "common/sys/sys.hpp"

namespace anshin {
namespace {

std::string_view ReasonLabel(Reason r) {
  switch (r) {
    case Reason::kArrival:
      return "来館";
    case Reason::kDeparture:
      return "退館";
    case Reason::kInferredDeparture:
      return "退館（来館タッチなし）";
    case Reason::kCorrection:
      return "訂正（先の通知は来館）";
    case Reason::kBackfilledArrival:
      return "来館（遅れて届いたタッチ）";
    case Reason::kDuplicate:
      return "二重読み取り";
    case Reason::kOutOfOrder:
      return "順序外（記録のみ）";
    case Reason::kUnknownCard:
      return "未登録カード";
    case Reason::kLostCard:
      return "紛失届のカード";
    case Reason::kRetiredCard:
      return "無効カード";
    case Reason::kImpossibleTime:
      return "時刻異常（判定せず）";
  }
  return "";
}

int Run(const std::string& path, const std::string& zone_name, bool mails) {
  auto zone = sys::LoadTimeZone(zone_name);
  if (!zone.ok()) {
    std::cerr << "anshin-replay: " << zone.status().message() << "\n";
    return 2;
  }
  auto text = sys::ReadFile(path);
  if (!text.ok()) {
    std::cerr << "anshin-replay: " << text.status().message() << "\n";
    return 2;
  }
  auto script = ParseDayScript(*text, *zone);
  if (!script.ok()) {
    std::cerr << "anshin-replay: " << path << ": " << script.status().message() << "\n";
    return 2;
  }
  DayResult result = ReplayDay(*script);
  const mail::TemplateSet templates = mail::TemplateSet::Defaults();
  auto name_of = [&](const std::string& key) {
    auto it = script->children.find(key);
    return it == script->children.end() ? std::string("（未登録カード）") : it->second.name;
  };

  fmt::print("{} {} — {} taps\n\n", script->date.ToString(), script->facility_name,
             result.taps.size());
  std::vector<std::pair<std::string, mail::MailText>> outbox;
  for (const auto& j : result.taps) {
    const Decision& d = j.decision;
    LocalDateTime local = (*zone)->ToLocal(d.tap_time);
    std::string who = name_of(j.step->who);
    fmt::print(
        "{}  {:<12}  {:<20} {}{}\n",
        local.time.ToString().size() == 5 ? local.time.ToString() + ":00" : local.time.ToString(),
        who, ReasonName(d.reason), ReasonLabel(d.reason), d.late ? "（遅延）" : "");
    if (d.notice) {
      auto m = mail::ComposeNotice(templates, *d.notice, who, script->facility_name, **zone);
      if (!m.ok()) {
        std::cerr << "anshin-replay: line " << j.step->line << ": " << m.status().message() << "\n";
        return 1;
      }
      outbox.emplace_back(who, std::move(m).value());
    }
    for (const Alert& a : d.alerts) fmt::print("          alert: {}\n", AlertKindName(a.kind));
  }
  for (const auto& [step, alerts] : result.closings) {
    fmt::print("{}  closing check: ", (*zone)->ToLocal(step->closing_at).time.ToString());
    if (alerts.empty()) fmt::print("全員の退館を確認\n");
    for (const Alert& a : alerts) {
      for (const auto& [key, child] : script->children) {
        if (a.child == child.id) fmt::print("退館記録なし — {}  ", child.name);
      }
    }
    if (!alerts.empty()) fmt::print("\n");
  }
  if (mails) {
    fmt::print("\nMails that would go out ({}):\n", outbox.size());
    for (const auto& [who, m] : outbox) {
      fmt::print("\n--- to the guardians of {}\n件名: {}\n{}\n", who, m.subject, m.body);
    }
  }
  for (const auto& m : result.mismatches)
    std::cerr << "anshin-replay: " << path << ": " << m << "\n";
  return result.mismatches.empty() ? 0 : 1;
}

}  // namespace
}  // namespace anshin

int main(int argc, char** argv) {
  CLI::App app{
      "anshin-replay: judge a scripted club day with the attendance engine and show the mails"};
  std::string path, zone = "Asia/Tokyo";
  bool no_mails = false;
  app.add_option("day", path, "day script (format: common/day_script.hpp)")->required();
  app.add_option("--zone", zone, "the facility's time zone")->capture_default_str();
  app.add_flag("--no-mails", no_mails, "print only the decisions");
  CLI11_PARSE(app, argc, argv);
  return anshin::Run(path, zone, !no_mails);
}
