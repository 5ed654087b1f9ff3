// CheckCertificateFiles: what the --check-config of both binaries says about a certificate, its
// private key and the CA that should have issued it, before a service goes live. Every problem
// names the configuration key it comes from ("tls.key: ... does not match the certificate ...").
//
// Checked: each file is readable PEM (the key unencrypted: the services start unattended), the
// key matches the certificate, the certificate chains to the CA file (signature only), and the
// certificate and the CA are valid at `now` (dates reported). I/O on the three files only.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace anshin::sys {

struct CertificateFiles {
  // The configuration keys named in problems, e.g. "tls.cert".
  std::string cert_key, key_key, ca_key;
  std::filesystem::path cert, key, ca;
};

struct CertificateFacts {
  std::string common_name;             // the certificate's CN ("" when unreadable)
  std::optional<TimePoint> not_after;  // its expiry
};

CertificateFacts CheckCertificateFiles(const CertificateFiles& files, TimePoint now,
                                       std::vector<std::string>& problems);

// "valid until 2027-11-30T00:00:00Z (363 days)" for a note.
std::string DescribeExpiry(TimePoint not_after, TimePoint now);

}  // namespace anshin::sys
