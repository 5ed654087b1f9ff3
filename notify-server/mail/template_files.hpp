// Loading the mail templates at start-up: the built-in Japanese set, with each kind replaced
// by `<dir>/<kind>.txt` when that file exists (arrival.txt, departure.txt,
// inferred_departure.txt, correction.txt, late.txt, verification.txt, test.txt; format in
// common/mail/templates.hpp). Any error (unreadable file, bad encoding, unknown placeholder,
// an unexpected *.txt file name) is returned here so that the server refuses to start rather
// than failing at send time.
#pragma once

#include <filesystem>

#include "common/mail/templates.hpp"
#include "common/status.hpp"

namespace anshin::server::mail {

// An empty `dir` gives the built-in templates. A `dir` that does not exist is an error.
Result<anshin::mail::TemplateSet> LoadTemplates(const std::filesystem::path& dir);

}  // namespace anshin::server::mail
