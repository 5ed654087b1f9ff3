// How anshin-admin prints what it lists: an aligned table for people (the default), CSV or
// JSON for scripts (`--format table|csv|json`). A listing is built once as a Listing (column
// names and rows of JSON scalars) and written in the format asked for:
//   table  columns padded to the widest cell, counting East Asian wide characters as two
//          columns; null as "-", booleans as yes/no;
//   csv    RFC 4180 (every field quoted by libcsv), a header row, CRLF line ends;
//   json   an array of objects keyed by column name, values with their JSON types.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace anshin::admin {

enum class OutputFormat { kTable, kCsv, kJson };

Result<OutputFormat> ParseOutputFormat(std::string_view name);

struct Listing {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;  // each as long as columns

  void Add(std::vector<nlohmann::json> row) { rows.push_back(std::move(row)); }
};

void WriteListing(const Listing& listing, OutputFormat format, std::ostream& out);

// Columns a terminal gives the UTF-8 text (wide and full-width characters count two).
int DisplayWidth(std::string_view text);

}  // namespace anshin::admin
