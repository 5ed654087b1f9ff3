// FaultyStore: wraps a real Store and fails on demand, so tests can drive the failure paths of
// group commit and the mailer against real data.
//
//   FaultyStore store(real);
//   store.FailCommit(1);        // the next commit fails (Unavailable; nothing is written)
//   store.Heal();               // no more failures
//   store.FailCommit(3, 2);     // the 3rd and 4th commits from now fail
//   store.FailBeginWrite(1);    // the next BeginWrite fails
//   store.commits()             // commits that reached the real store
//
// A failed Commit() rolls the real transaction back, as a disk failing at COMMIT would.
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "store/store.hpp"

namespace anshin::fakes {

class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(store::Store& real) : real_(real) {}

  // The `nth` commit from now (1 = the next one) and the `count - 1` after it fail.
  void FailCommit(int nth, int count = 1) {
    std::lock_guard lock(mu_);
    commit_fail_from_ = commits_seen_ + nth;
    commit_fail_count_ = count;
  }
  void FailBeginWrite(int nth, int count = 1) {
    std::lock_guard lock(mu_);
    begin_fail_from_ = begins_seen_ + nth;
    begin_fail_count_ = count;
  }
  // No more injected failures.
  void Heal() {
    std::lock_guard lock(mu_);
    commit_fail_count_ = 0;
    begin_fail_count_ = 0;
  }
  int commits() const { return commits_done_.load(); }
  int failed_commits() const { return commits_failed_.load(); }

  Result<std::unique_ptr<store::ReadTxn>> BeginRead() override { return real_.BeginRead(); }

  Result<std::unique_ptr<store::WriteTxn>> BeginWrite() override {
    {
      std::lock_guard lock(mu_);
      const int n = ++begins_seen_;
      if (n >= begin_fail_from_ && n < begin_fail_from_ + begin_fail_count_)
        return Status::Unavailable("injected: BeginWrite failed");
    }
    ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, real_.BeginWrite());
    return std::unique_ptr<store::WriteTxn>(new Txn(*this, std::move(txn)));
  }

 private:
  class Txn final : public store::WriteTxn {
   public:
    Txn(FaultyStore& owner, std::unique_ptr<store::WriteTxn> real)
        : owner_(owner), real_(std::move(real)) {}
    store::FacilityTable& facilities() override { return real_->facilities(); }
    store::AgentTable& agents() override { return real_->agents(); }
    store::ChildTable& children() override { return real_->children(); }
    store::GuardianTable& guardians() override { return real_->guardians(); }
    store::CardTable& cards() override { return real_->cards(); }
    store::AttendanceTable& attendance() override { return real_->attendance(); }
    store::OutboxTable& outbox() override { return real_->outbox(); }
    store::AlertTable& alerts() override { return real_->alerts(); }
    store::AuditTable& audit() override { return real_->audit(); }
    store::JobTable& jobs() override { return real_->jobs(); }
    store::StaffTable& staff() override { return real_->staff(); }
    Status Savepoint() override { return real_->Savepoint(); }
    Status ReleaseSavepoint() override { return real_->ReleaseSavepoint(); }
    Status RollbackSavepoint() override { return real_->RollbackSavepoint(); }
    Status Commit() override {
      if (owner_.ShouldFailCommit()) {
        real_.reset();  // rolled back
        owner_.commits_failed_.fetch_add(1);
        return Status::Unavailable("injected: disk I/O error at COMMIT");
      }
      if (!real_) return Status::FailedPrecondition("transaction already failed");
      Status s = real_->Commit();
      if (s.ok()) owner_.commits_done_.fetch_add(1);
      return s;
    }

   private:
    FaultyStore& owner_;
    std::unique_ptr<store::WriteTxn> real_;
  };

  bool ShouldFailCommit() {
    std::lock_guard lock(mu_);
    const int n = ++commits_seen_;
    return n >= commit_fail_from_ && n < commit_fail_from_ + commit_fail_count_;
  }

  store::Store& real_;
  std::mutex mu_;
  int commits_seen_ = 0, commit_fail_from_ = 0, commit_fail_count_ = 0;  // guarded by mu_
  int begins_seen_ = 0, begin_fail_from_ = 0, begin_fail_count_ = 0;     // guarded by mu_
  std::atomic<int> commits_done_{0}, commits_failed_{0};
};

}  // namespace anshin::fakes
