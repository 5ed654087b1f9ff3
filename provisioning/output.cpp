#include "provisioning/output.hpp"

#include <csv.h>

#include <algorithm>

#include "common/validate.hpp"

namespace anshin::admin {
namespace {

bool IsWide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) ||
         (c >= 0x20000 && c <= 0x3FFFD);
}

// A cell as text for the table and CSV.
std::string CellText(const nlohmann::json& v, bool for_table) {
  if (v.is_null()) return for_table ? "-" : "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::string CsvField(const std::string& text) {
  std::string out(text.size() * 2 + 2, '\0');
  std::size_t n = csv_write(out.data(), out.size(), text.data(), text.size());
  out.resize(n);
  return out;
}

void WriteTable(const Listing& l, std::ostream& out) {
  std::vector<int> widths;
  for (const auto& c : l.columns) widths.push_back(DisplayWidth(c));
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : l.rows) {
    auto& texts = cells.emplace_back();
    for (std::size_t i = 0; i < row.size(); ++i) {
      texts.push_back(CellText(row[i], true));
      widths[i] = std::max(widths[i], DisplayWidth(texts.back()));
    }
  }
  auto line = [&](const std::vector<std::string>& texts) {
    std::string s;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      s += texts[i];
      if (i + 1 < texts.size()) s.append(widths[i] - DisplayWidth(texts[i]) + 2, ' ');
    }
    out << s << "\n";
  };
  line(l.columns);
  for (const auto& texts : cells) line(texts);
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  return Status::InvalidArgument("--format: \"" + std::string(name) +
                                 "\" is not one of table, csv, json");
}

int DisplayWidth(std::string_view text) {
  int width = 0;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t n = Utf8CharLength(text, i, &cp);
    if (n == 0) n = 1;  // not UTF-8: a byte each
    width += IsWide(cp) ? 2 : 1;
    i += n;
  }
  return width;
}

void WriteListing(const Listing& l, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kTable:
      WriteTable(l, out);
      return;
    case OutputFormat::kCsv: {
      auto line = [&out](const std::vector<std::string>& texts) {
        for (std::size_t i = 0; i < texts.size(); ++i) out << (i ? "," : "") << CsvField(texts[i]);
        out << "\r\n";
      };
      line(l.columns);
      for (const auto& row : l.rows) {
        std::vector<std::string> texts;
        for (const auto& v : row) texts.push_back(CellText(v, false));
        line(texts);
      }
      return;
    }
    case OutputFormat::kJson: {
      auto array = nlohmann::json::array();
      for (const auto& row : l.rows) {
        nlohmann::json o = nlohmann::json::object();
        for (std::size_t i = 0; i < row.size(); ++i) o[l.columns[i]] = row[i];
        array.push_back(std::move(o));
      }
      out << array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
  }
}

}  // namespace anshin::admin
