#include "provisioning/letters/letter_pdf.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <algorithm>
#include <memory>
#include <system_error>

namespace anshin::admin::letters {
namespace {

// A4 in PostScript points, and the page's margins.
constexpr double kPageWidth = 595.28;
constexpr double kPageHeight = 841.89;
constexpr double kMargin = 56.0;
constexpr double kTextWidth = kPageWidth - 2 * kMargin;
// The QR code: at least this many points per module (6 pixels at 150 dpi), 4 modules of quiet
// zone on each side (ISO/IEC 18004), about this wide in all.
constexpr double kMinModule = 3.0;
constexpr double kQrTarget = 120.0;
constexpr int kQuietModules = 4;

constexpr const char* kGothic = "IPAexGothic";
constexpr const char* kMincho = "IPAexMincho";

struct QrDeleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;

// Lays out text on one page from the top down.
class PageWriter {
 public:
  explicit PageWriter(cairo_t* cr) : cr_(cr) {}

  // Draws `text` at the cursor, wrapped to `width`, and moves the cursor below it.
  void Text(const std::string& text, const char* family, double size, double space_after,
            double indent = 0, bool bold = false) {
    y_ += TextAt(text, family, size, kMargin + indent, y_, kTextWidth - indent, bold);
    y_ += space_after;
  }
  void Heading(const std::string& text) { Text("■ " + text, kGothic, 12.5, 5, 0, true); }
  void Skip(double points) { y_ += points; }

  // Draws text at (x, y) and returns its height.
  double TextAt(const std::string& text, const char* family, double size, double x, double y,
                double width, bool bold = false) {
    PangoLayout* layout = pango_cairo_create_layout(cr_);
    PangoFontDescription* font = pango_font_description_new();
    pango_font_description_set_family(font, family);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    if (bold) pango_font_description_set_weight(font, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(layout, font);
    pango_layout_set_width(layout, static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout, text.data(), static_cast<int>(text.size()));
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout);
    int w = 0, h = 0;
    pango_layout_get_size(layout, &w, &h);
    pango_font_description_free(font);
    g_object_unref(layout);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  // Draws the QR code with its quiet zone at the cursor's left and `caption` beside it; moves
  // the cursor below both.
  void Qr(const QRcode& qr, const std::string& caption) {
    const int modules = qr.width + 2 * kQuietModules;
    double module = kQrTarget / modules;
    if (module < kMinModule) module = kMinModule;
    const double size = module * modules;
    const double x0 = kMargin + 12, y0 = y_;
    cairo_set_source_rgb(cr_, 1, 1, 1);  // the quiet zone, white whatever the page is
    cairo_rectangle(cr_, x0, y0, size, size);
    cairo_fill(cr_);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    for (int row = 0; row < qr.width; ++row) {
      for (int col = 0; col < qr.width; ++col) {
        if ((qr.data[row * qr.width + col] & 1) == 0) continue;
        cairo_rectangle(cr_, x0 + (kQuietModules + col) * module,
                        y0 + (kQuietModules + row) * module, module, module);
      }
    }
    cairo_fill(cr_);
    const double text_x = x0 + size + 16;
    const double h =
        TextAt(caption, kGothic, 11, text_x, y0 + size / 2 - 14, kPageWidth - kMargin - text_x);
    y_ = y0 + std::max(size, size / 2 - 14 + h) + 10;
  }

  void Foot(const std::string& text) {
    TextAt(text, kGothic, 8.5, kMargin, kPageHeight - 48, kTextWidth);
  }

 private:
  cairo_t* cr_;
  double y_ = kMargin;
};

void DrawLetter(cairo_t* cr, const Letter& l, const QRcode& qr) {
  PageWriter p(cr);
  p.Text(l.service_name + "　ICカードのお届け", kGothic, 17, 18, 0, true);
  p.Text(l.child_name + "　様", kMincho, 20, 4);
  p.Text(l.facility_name, kGothic, 12, 16);
  p.Text("保護者の皆様へ", kGothic, 11, 4);
  p.Text("このたびは" + l.service_name +
             "にお申し込みいただき、ありがとうございます。お子さまのICカードをお届けします。"
             "学童クラブのカードリーダーにカードをかざすと、入館・退館をお知らせするメールが"
             "保護者の皆様に届きます。",
         kGothic, 11, 14);

  p.Heading("カードの使い方");
  for (const char* line :
       {"・入館・退館のときにカードをリーダーにかざしてください。",
        "・入館で1回、退館で1回、それぞれ1回ずつかざします。",
        "・音が鳴るまでカードをかざしたままお待ちください。音が鳴れば記録されています。",
        "・カードをなくしたときは、すぐに施設またはコールセンターにご連絡ください。"}) {
    p.Text(line, kGothic, 11, 2, 8);
  }
  p.Skip(12);

  p.Heading("メールの受信設定");
  p.Text(
      "携帯電話会社の迷惑メールフィルタなどで受信するメールを制限している場合は、次の"
      "ドメインからのメールを受信できるように設定してください。",
      kGothic, 11, 4, 8);
  p.Text("受信を許可するドメイン：" + l.sender_domain, kGothic, 12, 14, 20, true);

  p.Heading("メールアドレスの確認");
  p.Text(
      "ご登録のメールアドレスに確認メールをお送りしています。下のQRコード（またはURL）から"
      "確認ページを開き、確認メールに書かれた6桁の確認コードを入力してください。確認が"
      "済むまで、お知らせメールは届きません。",
      kGothic, 11, 8, 8);
  p.Qr(qr, "確認ページ\n" + l.verify_url);
  p.Skip(4);

  p.Heading("お問い合わせ");
  p.Text("コールセンター：" + l.callcenter_phone, kGothic, 13, 4, 8, true);
  p.Text("カードやメールについてのご質問は、コールセンターまでお電話ください。", kGothic, 10.5, 0,
         8);

  std::string foot = "カード番号 " + l.card_reference;
  if (!l.child_number.empty()) foot = "児童番号 " + l.child_number + "　" + foot;
  p.Foot(foot);
}

// Fontconfig falls back to any font silently; a letter in a fallback font may lack the
// kanji, so a missing IPAex font is an error naming the package.
Status RequireFont(const char* family) {
  PangoFontMap* map = pango_cairo_font_map_get_default();
  PangoContext* context = pango_font_map_create_context(map);
  PangoFontDescription* want = pango_font_description_new();
  pango_font_description_set_family(want, family);
  PangoFont* font = pango_font_map_load_font(map, context, want);
  std::string got;
  if (font != nullptr) {
    PangoFontDescription* d = pango_font_describe(font);
    if (const char* f = pango_font_description_get_family(d); f != nullptr) got = f;
    pango_font_description_free(d);
    g_object_unref(font);
  }
  pango_font_description_free(want);
  g_object_unref(context);
  if (got == family) return Status::Ok();
  return Status::FailedPrecondition(std::string("the font ") + family +
                                    " is not installed (Debian package fonts-ipaexfont)");
}

Status CairoStatus(cairo_status_t s, const std::filesystem::path& path) {
  if (s == CAIRO_STATUS_SUCCESS) return Status::Ok();
  return Status::Unavailable("writing " + path.string() + ": " + cairo_status_to_string(s));
}

}  // namespace

Status WriteLettersPdf(const std::vector<Letter>& letters, const std::filesystem::path& path) {
  if (letters.empty()) return Status::InvalidArgument("no letters to write");
  for (const char* family : {kGothic, kMincho}) ANSHIN_RETURN_IF_ERROR(RequireFont(family));
  std::vector<QrPtr> codes;
  for (const Letter& l : letters) {
    QrPtr qr(QRcode_encodeString(l.verify_url.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
    if (!qr) return Status::InvalidArgument("the QR code cannot hold " + l.verify_url);
    codes.push_back(std::move(qr));
  }
  const std::filesystem::path tmp = path.string() + ".tmp";
  cairo_surface_t* surface = cairo_pdf_surface_create(tmp.c_str(), kPageWidth, kPageHeight);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "ICカードのお届け");
  cairo_t* cr = cairo_create(surface);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    DrawLetter(cr, letters[i], *codes[i]);
    cairo_show_page(cr);
  }
  Status s = CairoStatus(cairo_status(cr), tmp);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  if (s.ok()) s = CairoStatus(cairo_surface_status(surface), tmp);
  cairo_surface_destroy(surface);
  std::error_code ec;
  if (s.ok()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) s = Status::Unavailable("writing " + path.string() + ": " + ec.message());
  }
  if (!s.ok()) std::filesystem::remove(tmp, ec);
  return s;
}

}  // namespace anshin::admin::letters
