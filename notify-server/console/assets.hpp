// The console's templates and style sheet, compiled into the binary from
// notify-server/console/templates/ (embed_assets.cmake): "login.mustache", "console.css", ...
#pragma once

#include <optional>
#include <string_view>

namespace anshin::console {

// The file's bytes, or nullopt for a name that is not one of the templates.
std::optional<std::string_view> Asset(std::string_view name);

}  // namespace anshin::console
