#include "notify-server/mail/verification_page.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace anshin::server::mail {
namespace {

constexpr std::string_view kPath = "/verify";

bool IsToken(std::string_view t) {
  return t.size() == 32 && std::all_of(t.begin(), t.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The value of `name` in an application/x-www-form-urlencoded string (tokens need no
// percent-decoding: anything but lowercase hex is rejected anyway).
std::string_view FormValue(std::string_view form, std::string_view name) {
  while (!form.empty()) {
    std::size_t amp = form.find('&');
    std::string_view pair = form.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    form.remove_prefix(amp + 1);
  }
  return {};
}

PageReply Page(int status, std::string_view title, std::string_view message,
               std::string_view extra = {}) {
  PageReply r;
  r.status = status;
  r.body =
      "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex\">"
      "<title>" +
      std::string(title) +
      " - キッズ安心メール</title>"
      "<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 "
      "1em;line-height:1.6}"
      "button{font-size:1.2em;padding:.5em 2em}</style></head>\n<body><h1>" +
      std::string(title) + "</h1>\n<p>" + std::string(message) + "</p>\n" + std::string(extra) +
      "</body></html>\n";
  return r;
}

}  // namespace

bool VerificationPage::Owns(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == kPath;
}

bool VerificationPage::OverLimit() {
  std::lock_guard lock(mu_);
  TimePoint now = clock_.Now();
  if (last_refill_ != TimePoint{}) {
    tokens_ = std::min<double>(
        kFailureBurst, tokens_ + double((now - last_refill_).count()) / kFailureRefill.count());
  }
  last_refill_ = now;
  return tokens_ < 1.0;
}

bool VerificationPage::TakeFailureToken() {
  std::lock_guard lock(mu_);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

PageReply VerificationPage::Handle(std::string_view method, std::string_view target,
                                   std::string_view body) {
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path != kPath) return Page(404, "ページが見つかりません", "このページは存在しません。");

  if (method == "GET" || method == "HEAD") {
    std::string_view token = FormValue(query, "token");
    if (!IsToken(token)) {
      return Page(404, "無効なリンクです",
                  "リンクが正しくありません。メールに記載されたリンクをそのまま開いてください。");
    }
    std::string form =
        "<form method=\"post\" action=\"/verify\">"
        "<input type=\"hidden\" name=\"token\" value=\"" +
        std::string(token) +
        "\">"
        "<button type=\"submit\">確認する</button></form>\n";
    PageReply r =
        Page(200, "メールアドレスの確認",
             "下のボタンを押すと、このメールアドレスでキッズ安心メールを受け取れるようになります。",
             form);
    if (method == "HEAD") r.body.clear();
    return r;
  }
  if (method != "POST") {
    PageReply r = Page(405, "操作できません", "この操作には対応していません。");
    return r;
  }
  if (OverLimit()) {
    return Page(429, "しばらくお待ちください",
                "確認の失敗が続いたため、一時的に受け付けを停止しています。しばらくしてからもう一度"
                "お試しください。");
  }
  std::string_view token = FormValue(body, "token");
  if (!IsToken(token)) {
    (void)TakeFailureToken();
    return Page(400, "無効なリンクです",
                "リンクが正しくありません。メールに記載されたリンクをそのまま開いてください。");
  }
  auto verified = guardians_.VerifyByLink(token, clock_.Now());
  if (verified.ok()) {
    spdlog::info("verify: guardian {} verified by link", verified->value);
    return Page(
        200, "確認が完了しました",
        "メールアドレスの確認が完了しました。今後、来館・退館のお知らせがこのアドレスに届きます。");
  }
  const Status& s = verified.status();
  switch (s.code()) {
    case Status::Code::kNotFound:
      (void)TakeFailureToken();
      return Page(404, "無効なリンクです",
                  "このリンクは無効か、すでに使われています。確認が済んでいない場合は、コールセンタ"
                  "ーにご連絡ください。");
    case Status::Code::kFailedPrecondition:
      return Page(
          410, "有効期限が切れています",
          "このリンクの有効期限が切れています。コールセンターに確認メールの再送をご依頼ください。");
    case Status::Code::kResourceExhausted:
      return Page(429, "しばらくお待ちください",
                  "確認の試行回数が上限に達しました。コールセンターにご連絡ください。");
    default:
      spdlog::error("verify: confirming a link failed: {}", s.ToString());
      return Page(503, "ただいま混み合っています", "時間をおいてもう一度お試しください。");
  }
}

}  // namespace anshin::server::mail
