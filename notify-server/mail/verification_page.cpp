#include "notify-server/mail/verification_page.hpp"

#include <arpa/inet.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

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

// A form value as typed (percent-decoded, '+' as a space); nullopt for a broken escape.
std::optional<std::string> Decoded(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '+') {
      out += ' ';
    } else if (v[i] == '%') {
      if (i + 2 >= v.size() || !std::isxdigit(static_cast<unsigned char>(v[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(v[i + 2])))
        return std::nullopt;
      out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

bool IsCode(std::string_view c) {
  return c.size() == 6 &&
         std::all_of(c.begin(), c.end(), [](char d) { return d >= '0' && d <= '9'; });
}

// The page the letter's QR code opens: the address and the code from the verification mail.
constexpr std::string_view kCodeForm =
    "<form method=\"post\" action=\"/verify\">"
    "<p><label>登録したメールアドレス<br><input type=\"email\" name=\"email\" required "
    "autocomplete=\"email\" size=\"30\"></label></p>"
    "<p><label>確認コード（6桁）<br><input type=\"text\" name=\"code\" required "
    "inputmode=\"numeric\" pattern=\"[0-9]{6}\" maxlength=\"6\" size=\"8\"></label></p>"
    "<button type=\"submit\">確認する</button></form>\n";

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em;line-height:1.6}"
    "button{font-size:1.2em;padding:.5em 2em}";

// Nothing but the page's own inline style; the form may only post back here; no framing.
const std::string& ContentSecurityPolicy() {
  static const std::string policy = [] {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(kStyle.data()),
                       kStyle.size());
    std::array<char,
               sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)>
        b64{};
    sodium_bin2base64(b64.data(), b64.size(), digest.data(), digest.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    return "default-src 'none'; style-src 'sha256-" + std::string(b64.data()) +
           "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  }();
  return policy;
}

PageReply Page(int status, std::string_view title, std::string_view message,
               std::string_view extra = {}) {
  PageReply r;
  r.status = status;
  r.headers.emplace_back("Content-Security-Policy", ContentSecurityPolicy());
  if (status == 405) r.headers.emplace_back("Allow", "GET, HEAD, POST");
  r.body =
      "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex\">"
      "<meta name=\"referrer\" content=\"no-referrer\">"
      "<title>" +
      std::string(title) + " - キッズ安心メール</title><style>" + std::string(kStyle) +
      "</style></head>\n<body><h1>" + std::string(title) + "</h1>\n<p>" + std::string(message) +
      "</p>\n" + std::string(extra) + "</body></html>\n";
  return r;
}

}  // namespace

bool VerificationPage::Owns(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == kPath;
}

FailureBuckets::Bucket& FailureBuckets::Refilled(const std::string& key, TimePoint now) {
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh && now > b.last) {
    b.tokens = std::min(burst_, b.tokens + double((now - b.last).count()) / refill_.count());
    b.last = now;
  }
  return b;
}

bool FailureBuckets::Exhausted(const std::string& key, TimePoint now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return false;
  return Refilled(key, now).tokens < 1.0;
}

void FailureBuckets::Fail(const std::string& key, TimePoint now) {
  if (buckets_.size() >= max_keys_ && buckets_.count(key) == 0) Prune(now);
  Bucket& b = Refilled(key, now);
  if (b.tokens >= 1.0) b.tokens -= 1.0;
}

// Forgets full buckets (they are as good as new), then, if still over the bound, the half that
// has been quiet longest: a flood of fresh keys can only make the limiter forget, never lock
// anyone out.
void FailureBuckets::Prune(TimePoint now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    const double tokens = b.tokens + double((now - b.last).count()) / refill_.count();
    it = tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < max_keys_) return;
  std::vector<std::pair<TimePoint, std::string>> by_age;
  by_age.reserve(buckets_.size());
  for (const auto& [key, b] : buckets_) by_age.emplace_back(b.last, key);
  std::sort(by_age.begin(), by_age.end());
  for (std::size_t i = 0; i < by_age.size() / 2; ++i) buckets_.erase(by_age[i].second);
}

std::string VerificationPage::AddressKey(std::string_view address) {
  const std::string text(address);
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return text;
  const bool v4_mapped = std::all_of(v6.begin(), v6.begin() + 10, [](auto b) { return b == 0; }) &&
                         v6[10] == 0xff && v6[11] == 0xff;
  if (v4_mapped) {
    return std::to_string(v6[12]) + "." + std::to_string(v6[13]) + "." + std::to_string(v6[14]) +
           "." + std::to_string(v6[15]);
  }
  std::fill(v6.begin() + 8, v6.end(), 0);
  std::array<char, INET6_ADDRSTRLEN> out{};
  inet_ntop(AF_INET6, v6.data(), out.data(), out.size());
  return std::string(out.data()) + "/64";
}

bool VerificationPage::OverLimit(const std::string& address, std::string_view token) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  return by_address_.Exhausted(address, now) ||
         (!token.empty() && by_token_.Exhausted(std::string(token), now));
}

void VerificationPage::Failed(const std::string& address, std::string_view token) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.Now();
  by_address_.Fail(address, now);
  if (!token.empty()) by_token_.Fail(std::string(token), now);
}

PageReply VerificationPage::Handle(std::string_view method, std::string_view target,
                                   std::string_view body, std::string_view client_address) {
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path != kPath) return Page(404, "ページが見つかりません", "このページは存在しません。");

  if (method == "GET" || method == "HEAD") {
    std::string_view token = FormValue(query, "token");
    if (token.empty()) {
      PageReply r = Page(200, "メールアドレスの確認",
                         "確認メールに記載された6桁の確認コードと、登録したメールアドレスを入力して"
                         "ください。確認メールが届かない場合は、迷惑メール対策の設定で送信元の"
                         "ドメインからの受信を許可し、コールセンターに再送をご依頼ください。",
                         kCodeForm);
      if (method == "HEAD") r.body.clear();
      return r;
    }
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
  const std::string address = AddressKey(client_address);
  if (FormValue(body, "token").empty() && !FormValue(body, "code").empty())
    return VerifyAddressAndCode(address, body);
  std::string_view token = FormValue(body, "token");
  if (!IsToken(token)) token = {};
  if (OverLimit(address, token)) {
    spdlog::info("verify: {} over the failure limit", address);
    return Page(429, "しばらくお待ちください",
                "確認の失敗が続いたため、一時的に受け付けを停止しています。しばらくしてからもう一度"
                "お試しください。");
  }
  if (token.empty()) {
    Failed(address, {});
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
      Failed(address, token);
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

// The code typed with its address. Failures count per client and per address (the address
// stands in for the link token: a code cannot be guessed for one address from many clients).
PageReply VerificationPage::VerifyAddressAndCode(const std::string& client, std::string_view body) {
  std::optional<std::string> email = Decoded(FormValue(body, "email"));
  std::optional<std::string> code = Decoded(FormValue(body, "code"));
  std::string key;
  if (email) {
    key = "email:" + *email;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  if (OverLimit(client, key)) {
    spdlog::info("verify: {} over the failure limit", client);
    return Page(429, "しばらくお待ちください",
                "確認の失敗が続いたため、一時的に受け付けを停止しています。しばらくしてからもう一度"
                "お試しください。");
  }
  if (!email || email->empty() || !code || !IsCode(*code)) {
    Failed(client, key);
    return Page(400, "入力を確認してください",
                "メールアドレスと6桁の確認コードを入力してください。", kCodeForm);
  }
  auto verified = guardians_.VerifyByAddress(*email, *code, clock_.Now());
  if (verified.ok()) {
    spdlog::info("verify: guardian {} verified by address and code", verified->value);
    return Page(
        200, "確認が完了しました",
        "メールアドレスの確認が完了しました。今後、来館・退館のお知らせがこのアドレスに届きます。");
  }
  const Status& s = verified.status();
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
      // One answer for both: the page must not tell which addresses are registered.
      Failed(client, key);
      return Page(400, "確認できませんでした",
                  "メールアドレスか確認コードが正しくないか、確認コードの有効期限が切れています。"
                  "確認メールの再送はコールセンターにご依頼ください。",
                  kCodeForm);
    default:
      spdlog::error("verify: confirming a code failed: {}", s.ToString());
      return Page(503, "ただいま混み合っています", "時間をおいてもう一度お試しください。");
  }
}

}  // namespace anshin::server::mail
