// InstanceLock: one process per resource. `anshin-server` holds it on "<database>.lock" for its
// whole life, so a second server started on the same database (which would run a second mailer
// and a second closing-check scheduler beside the first) refuses to start, naming the first
// one's pid; `anshin-admin restore` takes it too, so a database is never replaced under a
// running server. An flock(2) on the file: released by the kernel when the process exits, even
// by kill -9, so a crash never leaves a stale lock. The file holds the owner's pid, for messages.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.hpp"

namespace anshin::sys {

class InstanceLock {
 public:
  // Conflict naming the holder when another process holds it;
  // Unavailable when the lock file cannot be created. `what` names the resource in messages.
  static Result<InstanceLock> Acquire(const std::filesystem::path& lock_file,
                                      const std::string& what);
  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

  // "<database>.lock"
  static std::filesystem::path ForDatabase(const std::filesystem::path& database);

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace anshin::sys
