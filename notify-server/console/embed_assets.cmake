# Writes OUT, a C++ file defining anshin::console::Asset(name) over the files given in ASSETS
# (a ;-list of paths), each compiled in as bytes. Run by the build (cmake -P) whenever a
# template or the style sheet changes, so the binary needs no files at run time.
set(body "")
set(table "")
set(i 0)
foreach(path IN LISTS ASSETS)
  get_filename_component(name "${path}" NAME)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(APPEND body "constexpr char kAsset${i}[] = {${bytes} 0};\n")
  string(APPEND table "    {\"${name}\", std::string_view(kAsset${i}, ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from notify-server/console/templates by embed_assets.cmake.
#include \"notify-server/console/assets.hpp\"

#include <array>
#include <utility>

namespace anshin::console {
namespace {
${body}
constexpr std::array<std::pair<std::string_view, std::string_view>, ${i}> kAssets{{
${table}}};
}  // namespace

std::optional<std::string_view> Asset(std::string_view name) {
  for (const auto& [n, data] : kAssets) {
    if (n == name) return data;
  }
  return std::nullopt;
}

}  // namespace anshin::console
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
