#include "notify-server/mail/template_files.hpp"

#include <system_error>

#include "common/sys/sys.hpp"

namespace anshin::server::mail {

Result<anshin::mail::TemplateSet> LoadTemplates(const std::filesystem::path& dir) {
  using anshin::mail::TemplateKind;
  anshin::mail::TemplateSet set = anshin::mail::TemplateSet::Defaults();
  if (dir.empty()) return set;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::InvalidArgument("mail.templates_dir: " + dir.string() + " is not a directory");
  }
  // A misspelt file name would silently keep the default text: refuse unknown *.txt files.
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".txt") continue;
    std::string stem = entry.path().stem().string();
    bool known = false;
    for (TemplateKind k : anshin::mail::kAllTemplateKinds)
      known = known || anshin::mail::TemplateKindName(k) == stem;
    if (!known)
      return Status::InvalidArgument("mail.templates_dir: unknown template file " +
                                     entry.path().filename().string());
  }
  if (ec)
    return Status::InvalidArgument("mail.templates_dir: " + dir.string() + ": " + ec.message());
  for (TemplateKind kind : anshin::mail::kAllTemplateKinds) {
    std::filesystem::path file = dir / (std::string(anshin::mail::TemplateKindName(kind)) + ".txt");
    if (!std::filesystem::exists(file, ec)) continue;
    auto text = sys::ReadFile(file);
    if (!text.ok()) return text.status().WithContext("mail.templates_dir");
    ANSHIN_RETURN_IF_ERROR(set.Override(kind, *text).WithContext(file.string()));
  }
  return set;
}

}  // namespace anshin::server::mail
