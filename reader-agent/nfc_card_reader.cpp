#include "reader-agent/nfc_card_reader.hpp"

#include <nfc/nfc.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <utility>

namespace anshin::agent {

NfcCardReader::NfcCardReader(std::string connstring) : connstring_(std::move(connstring)) {}

NfcCardReader::~NfcCardReader() { Close(); }

std::string NfcCardReader::Describe() const {
  if (!opened_connstring_.empty()) return opened_connstring_;
  if (!connstring_.empty()) return connstring_;
  return "libnfc default device";
}

Status NfcCardReader::Open() {
  if (device_ != nullptr) return Status::Ok();
  if (connstring_.size() >= NFC_BUFSIZE_CONNSTRING) {
    return Status::InvalidArgument("NFC reader connstring is longer than " +
                                   std::to_string(NFC_BUFSIZE_CONNSTRING - 1) + " characters");
  }
  nfc_init(&context_);
  if (context_ == nullptr) {
    return Status::Internal("libnfc: nfc_init failed (out of memory)");
  }
  device_ = nfc_open(context_, connstring_.empty() ? nullptr : connstring_.c_str());
  if (device_ == nullptr) {
    Close();
    if (connstring_.empty()) {
      return Status::Unavailable(
          "libnfc: no NFC reader found (libnfc's configuration: /etc/nfc/libnfc.conf, "
          "LIBNFC_DEVICE; or set the reader's connstring)");
    }
    return Status::Unavailable("libnfc: cannot open NFC reader " + connstring_ +
                               ": the device is absent, in use, or does not answer");
  }
  opened_connstring_ = nfc_device_get_connstring(device_);
  if (nfc_initiator_init(device_) < 0) {
    Status s = DeviceError("nfc_initiator_init");
    Close();
    return s;
  }
  // One finite passive activation per listing: a poll must not wait for a card forever.
  if (nfc_device_set_property_bool(device_, NP_INFINITE_SELECT, false) < 0) {
    Status s = DeviceError("disabling infinite select");
    Close();
    return s;
  }
  spdlog::debug("NFC reader {} opened ({})", Describe(), nfc_device_get_name(device_));
  return Status::Ok();
}

Result<std::optional<Idm>> NfcCardReader::Poll() {
  if (device_ == nullptr) return Status::FailedPrecondition("NFC reader is not open");
  for (int baud_kbps : {212, 424}) {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<Idm> idm, PollFelica(baud_kbps));
    if (idm) return idm;
  }
  return std::optional<Idm>();
}

Result<std::optional<Idm>> NfcCardReader::PollFelica(int baud_kbps) {
  const nfc_modulation modulation{NMT_FELICA, baud_kbps == 212 ? NBR_212 : NBR_424};
  nfc_target target;
  std::memset(&target, 0, sizeof(target));
  const int found = nfc_initiator_list_passive_targets(device_, modulation, &target, 1);
  // libnfc reports a failed select inside the listing only through the device's last error.
  if (found < 0 || (found == 0 && nfc_device_get_last_error(device_) < 0)) {
    return DeviceError("polling FeliCa at " + std::to_string(baud_kbps) + " kbps");
  }
  if (found == 0) return std::optional<Idm>();
  Idm idm;
  static_assert(sizeof(target.nti.nfi.abtId) == sizeof(idm.bytes));
  std::memcpy(idm.bytes.data(), target.nti.nfi.abtId, idm.bytes.size());
  return std::optional<Idm>(idm);
}

Status NfcCardReader::DeviceError(const std::string& what) const {
  return Status::Unavailable("libnfc: " + what + " on " + Describe() + ": " +
                             nfc_strerror(device_));
}

void NfcCardReader::Close() {
  if (device_ != nullptr) {
    nfc_close(device_);
    device_ = nullptr;
  }
  if (context_ != nullptr) {
    nfc_exit(context_);
    context_ = nullptr;
  }
  opened_connstring_.clear();
}

}  // namespace anshin::agent
