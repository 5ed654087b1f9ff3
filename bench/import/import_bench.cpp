// anshin-import-bench: how long `anshin-admin import applications` takes for one ward's
// application file (issue 10: 4,000 children in under 10 s). bench/import/run builds and runs it.
//
// In a fresh temporary home (init, --facilities facilities) it writes a file of --children
// rows, each with kana, grade, expected departures Monday to Friday and --guardians guardians
// (UTF-8 with a BOM, as the template), then runs the import through the real command line
// in-process and times it; then imports the same file again (every row unchanged). Output:
// "key value" lines: children, guardians, file_bytes, import_s, rows_per_s, reimport_s,
// reimport_rows_per_s. Exits non-zero if an import fails or does not report what it did.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/sys/sys.hpp"
#include "provisioning/admin.hpp"

namespace anshin::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  int children = 4000;
  int guardians = 2;
  int facilities = 106;  // one ward's ward-run facilities (DESIGN.md §1)
  bool keep = false;
};

struct Timed {
  int code = 0;
  std::string out, err;
  double seconds = 0;
};

Timed RunAdmin(const fs::path& home, std::vector<std::string> args) {
  args.insert(args.begin(), {"anshin-admin", "--home", home.string()});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const auto start = SteadyClock::now();
  Timed r;
  r.code = admin::RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string FacilityCode(int i) { return "F" + std::to_string(i + 1); }

std::string ApplicationFile(const Options& o) {
  static const char* const kFamily[] = {"練馬", "高橋", "佐藤", "鈴木", "田中", "伊藤"};
  static const char* const kFamilyKana[] = {"ねりま", "たかはし", "さとう",
                                            "すずき", "たなか",   "いとう"};
  static const char* const kGiven[] = {"さくら", "はると", "ゆい", "そうた", "めい"};
  std::string file =
      "\xEF\xBB\xBF"
      "child_number,name,kana,facility,grade";
  for (int g = 1; g <= o.guardians; ++g) {
    const std::string n = std::to_string(g);
    file += ",guardian" + n + "_email,guardian" + n + "_arrival,guardian" + n + "_departure";
  }
  file += ",departure_mon,departure_tue,departure_wed,departure_thu,departure_fri\r\n";
  for (int i = 0; i < o.children; ++i) {
    const std::string number = "W" + std::to_string(100000 + i);
    const int family = i % 6, given = (i / 6) % 5;
    file += number + "," + kFamily[family] + " " + kGiven[given] + "," + kFamilyKana[family] + " " +
            kGiven[given] + "," + FacilityCode(i % o.facilities) + "," + std::to_string(1 + i % 3);
    for (int g = 1; g <= o.guardians; ++g) {
      file += ",g" + std::to_string(g) + "." + number + "@example.jp,1," + (g == 1 ? "1" : "0");
    }
    file += ",17:30,17:30,18:00,17:30,18:30\r\n";
  }
  return file;
}

bool Expect(const Timed& r, const std::string& what, const std::string& summary) {
  if (r.code == 0 && r.out.find(summary) != std::string::npos) return true;
  std::cerr << "anshin-import-bench: " << what << " failed (exit " << r.code << ")\n"
            << r.out << r.err;
  return false;
}

int Main(const Options& o) {
  std::string templ = (fs::temp_directory_path() / "anshin-bench-import-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    std::cerr << "anshin-import-bench: cannot create a temporary directory\n";
    return 1;
  }
  const fs::path dir = templ, home = dir / "home", file = dir / "applications.csv";
  struct Cleanup {
    fs::path dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (keep) {
        std::cerr << "kept " << dir << "\n";
      } else {
        fs::remove_all(dir, ec);
      }
    }
  } cleanup{dir, o.keep};

  if (!Expect(RunAdmin(home, {"init", "--server-san", "127.0.0.1"}), "init", "")) return 1;
  for (int i = 0; i < o.facilities; ++i) {
    const std::string code = FacilityCode(i);
    if (!Expect(RunAdmin(home, {"facility", "add", "--code", code, "--name", "施設 " + code}),
                "facility add", "")) {
      return 1;
    }
  }
  const std::string bytes = ApplicationFile(o);
  if (Status s = sys::WriteFileAtomic(file, bytes); !s.ok()) {
    std::cerr << "anshin-import-bench: " << s.ToString() << "\n";
    return 1;
  }

  const std::string n = std::to_string(o.children);
  const Timed first = RunAdmin(home, {"import", "applications", file.string()});
  if (!Expect(first, "import",
              "import: " + n + " children added, 0 updated, 0 unchanged; " +
                  std::to_string(o.children * o.guardians) + " guardians added")) {
    return 1;
  }
  const Timed again = RunAdmin(home, {"import", "applications", file.string()});
  if (!Expect(again, "re-import", "0 children added, 0 updated, " + n + " unchanged")) return 1;

  std::printf("children %d\nguardians %d\nfile_bytes %zu\n", o.children, o.children * o.guardians,
              bytes.size());
  std::printf("import_s %.3f\nrows_per_s %.0f\n", first.seconds, o.children / first.seconds);
  std::printf("reimport_s %.3f\nreimport_rows_per_s %.0f\n", again.seconds,
              o.children / again.seconds);
  return 0;
}

}  // namespace
}  // namespace anshin::bench

int main(int argc, char** argv) {
  anshin::bench::Options o;
  CLI::App app{"anshin-import-bench: times `anshin-admin import applications` on a generated file"};
  app.add_option("--children", o.children, "rows in the file")->capture_default_str();
  app.add_option("--guardians", o.guardians, "guardians per child, 1 to 4")
      ->check(CLI::Range(1, 4))
      ->capture_default_str();
  app.add_option("--facilities", o.facilities, "facilities the children are spread over")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--keep", o.keep, "keep the temporary home");
  CLI11_PARSE(app, argc, argv);
  return anshin::bench::Main(o);
}
