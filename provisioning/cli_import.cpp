// anshin-admin import applications.
#include <unistd.h>

#include <iostream>

#include "common/sys/sys.hpp"
#include "provisioning/cli.hpp"
#include "provisioning/import/applications.hpp"

namespace anshin::admin {
namespace {

constexpr int kProgressLineEvery = 500;  // rows, when stderr is not a terminal
constexpr int kBarWidth = 30;

struct ImportCliOptions {
  std::string file;
  std::string encoding = "auto";
  bool dry_run = false;
  bool write_template = false;
  bool japanese = false;
  std::string out;
};

// Progress on stderr: a bar redrawn in place on a terminal, otherwise a line every 500 rows
// (a log or a pipe gets no carriage returns).
class Progress {
 public:
  Progress(std::ostream& err, bool tty) : err_(err), tty_(tty) {}

  void operator()(int done, int total) {
    if (!tty_) {
      if (done % kProgressLineEvery == 0) {
        err_ << "import: " << done << " of " << total << " rows\n";
      }
      return;
    }
    const int filled = total > 0 ? done * kBarWidth / total : kBarWidth;
    const int percent = total > 0 ? done * 100 / total : 100;
    if (percent == last_percent_ && done != total) return;
    last_percent_ = percent;
    err_ << "\rimport: [" << std::string(filled, '#') << std::string(kBarWidth - filled, '.')
         << "] " << percent << "% (" << done << " of " << total << " rows)";
    if (done == total) err_ << "\n";
    err_.flush();
  }

 private:
  std::ostream& err_;
  const bool tty_;
  int last_percent_ = -1;
};

Status WriteTemplate(Cli& cli, const ImportCliOptions& o) {
  const std::string text = import::ApplicationTemplate(o.japanese);
  if (o.out.empty()) {
    cli.out() << text;
    return Status::Ok();
  }
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(o.out, text));
  cli.out() << "template written to " << o.out << "\n";
  return Status::Ok();
}

Status Import(Cli& cli, const ImportCliOptions& o) {
  if (o.file.empty()) return Status::InvalidArgument("FILE: required (or --template)");
  ANSHIN_ASSIGN_OR_RETURN(import::Encoding encoding, import::ParseEncoding(o.encoding));
  ANSHIN_ASSIGN_OR_RETURN(std::string bytes, sys::ReadFile(o.file));
  ANSHIN_ASSIGN_OR_RETURN(import::ParsedApplications parsed,
                          import::ParseApplications(bytes, encoding));
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, cli.Open());
  // Only the real stderr can be a terminal; a test's stream never is.
  const bool tty = &cli.err() == &std::cerr && isatty(STDERR_FILENO) == 1;
  import::ImportOptions options;
  options.dry_run = o.dry_run;
  options.progress = Progress(cli.err(), tty);
  ANSHIN_ASSIGN_OR_RETURN(import::ImportReport report, admin->ImportApplications(parsed, options));
  for (const import::RowError& e : report.errors) cli.err() << e.ToString() << "\n";
  if (!report.errors.empty())
    return Status::InvalidArgument(import::DescribeImport(report, o.dry_run));
  for (const import::RowError& n : report.notes) cli.out() << n.ToString() << "\n";
  cli.out() << import::DescribeImport(report, o.dry_run) << "\n";
  return Status::Ok();
}

}  // namespace

void AddImportCommands(Cli& cli) {
  auto& o = cli.Keep<ImportCliOptions>();
  auto* imp = cli.app().add_subcommand("import", "import files from the ward");
  imp->require_subcommand(1);

  auto* apps = imp->add_subcommand(
      "applications",
      "import the families' application file (one row per child; `--template` shows the "
      "columns). Every row is checked first and nothing is imported unless all are valid. A "
      "row is matched to a child by its child number: a new number adds the child, a known one "
      "updates the child's fields from the columns present, so importing the same file again "
      "changes nothing. New guardian addresses start unverified with their verification mail "
      "queued. Registered guardians a row does not list, and the mail choices of addresses "
      "already registered, are kept as they are (removing or changing a guardian is another "
      "command).");
  apps->add_option("FILE", o.file, "the CSV file (UTF-8, UTF-8 with BOM or Shift_JIS)");
  apps->add_option("--encoding", o.encoding, "auto (default), utf-8 or shift_jis")
      ->capture_default_str();
  apps->add_flag("--dry-run", o.dry_run, "check the file and say what would change; write nothing");
  apps->add_flag("--template", o.write_template,
                 "write the header row and one example row (UTF-8 with BOM) instead");
  apps->add_flag("--japanese", o.japanese, "with --template: the Japanese column names");
  apps->add_option("--out", o.out, "with --template: write to this file instead of stdout");
  apps->callback(
      [&cli, &o] { cli.Run(o.write_template ? WriteTemplate(cli, o) : Import(cli, o)); });
}

}  // namespace anshin::admin
