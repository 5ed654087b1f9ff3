#include "reader-agent/uplinker.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "reader-agent/agent_status.hpp"
#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::FakeUplink;
using testing::ManualClock;
using testing::TempDir;
using testing::Token;

struct Fixture {
  TempDir dir;
  ManualClock clock;
  std::unique_ptr<AgentStore> store = AgentStore::Open(dir.path() / "agent.db").value();
  FakeUplink uplink;
  AllowlistCache allowlist;
  Uplinker::Options options{.agent_name = "club-1",
                            .batch_size = 3,
                            .backoff_min = Millis(10),
                            .backoff_max = Millis(50),
                            .agent_version = "9.9"};
  std::unique_ptr<Uplinker> uplinker;

  Fixture() {
    uplink.allowlist = {.version = 2, .full = true, .added = {Token('a')}};
    Make();
  }
  void Make() {
    uplinker =
        std::make_unique<Uplinker>(*store, uplink, allowlist, clock, options, [](wire::Health& h) {
          h.reader_state = "ok";
          h.reader_error = "";
        });
    REQUIRE(uplinker->Init().ok());
  }
  void Queue(int n) {
    for (int i = 0; i < n; ++i) {
      REQUIRE(store->AppendTap(Token('a'), clock.Now(), "entrance", Direction::kAuto).ok());
    }
  }
  std::vector<std::uint64_t> SentSeqs() const {
    std::vector<std::uint64_t> seqs;
    for (const auto& b : uplink.log().batches) {
      for (const auto& t : b.taps) seqs.push_back(t.seq);
    }
    return seqs;
  }
};

}  // namespace

TEST_CASE("one session sends the queue in ordered batches, then refreshes the allowlist",
          "[uplinker]") {
  Fixture f;
  f.Queue(7);
  REQUIRE(f.uplinker->SyncOnce(false).ok());
  auto log = f.uplink.log();
  CHECK(log.sessions == 1);
  REQUIRE(log.batches.size() == 3);  // 3 + 3 + 1
  CHECK(log.batches[0].taps.size() == 3);
  CHECK(log.batches[2].taps.size() == 1);
  CHECK(f.SentSeqs() == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7});
  CHECK(log.batches[0].agent == "club-1");
  REQUIRE(log.batches[0].health.has_value());
  CHECK(log.batches[0].health->queue_depth == 7);
  CHECK(log.batches[0].health->agent_version == "9.9");
  CHECK(log.batches[0].health->reader_state == "ok");
  CHECK(log.allowlist_since == std::vector<std::uint64_t>{0});
  CHECK(log.request_session == std::vector<int>{1, 1, 1, 1});  // all in one connection
  CHECK(f.store->Queue().value().depth == 0);
  CHECK(f.allowlist.Contains(Token('a')));
  CHECK(f.allowlist.version() == 2);
}

TEST_CASE("the ack deletes exactly what it acknowledges", "[uplinker]") {
  struct PartialUplink final : Uplink {
    struct S final : UplinkSession {
      Result<wire::TapAck> PostTaps(const wire::TapBatch& b) override {
        wire::TapAck ack;
        ack.acked_through = b.taps.front().seq;  // the server committed only the first tap
        return ack;
      }
      Result<wire::AllowlistDelta> FetchAllowlist(std::uint64_t) override {
        return wire::AllowlistDelta{.version = 1, .full = true};
      }
    };
    std::unique_ptr<UplinkSession> Begin() override { return std::make_unique<S>(); }
  } partial;
  Fixture f;
  f.Queue(4);
  Uplinker u(*f.store, partial, f.allowlist, f.clock, f.options, [](wire::Health&) {});
  REQUIRE(u.SyncOnce(false).ok());  // one tap per round trip until the queue is empty
  CHECK(f.store->Queue().value().depth == 0);
}

TEST_CASE("taps the server set aside are dropped from the queue, counted and shown in status",
          "[uplinker]") {
  struct RejectingUplink final : Uplink {
    struct S final : UplinkSession {
      Result<wire::TapAck> PostTaps(const wire::TapBatch& b) override {
        wire::TapAck ack;
        if (b.taps.empty()) return ack;
        ack.acked_through = b.taps.back().seq;
        if (b.taps.front().seq == 1) {
          ack.rejected.push_back({2, "taps[1].at", "taps[1].at: 23 h after the upload arrived"});
          ack.rejected.push_back({3, "taps[2].at",
                                  "taps[2].at: 9999-12-31T00:00:00Z is 7973 "
                                  "years after the upload arrived"});
        }
        return ack;
      }
      Result<wire::AllowlistDelta> FetchAllowlist(std::uint64_t) override {
        return wire::AllowlistDelta{.version = 1, .full = true};
      }
    };
    std::unique_ptr<UplinkSession> Begin() override { return std::make_unique<S>(); }
  } rejecting;
  Fixture f;
  f.Queue(3);
  Uplinker u(*f.store, rejecting, f.allowlist, f.clock, f.options, [](wire::Health&) {});
  REQUIRE(u.SyncOnce(false).ok());
  CHECK(f.store->Queue().value().depth == 0);  // acknowledged: the server keeps them
  CHECK(f.store->GetInt(meta::kRejectedTaps).value() == std::optional<std::int64_t>(2));
  auto report = FormatStatus(*f.store, f.clock.Now()).value();
  CHECK_THAT(report, Catch::Contains("rejected_taps:      2"));
  CHECK_THAT(report, Catch::Contains("last_rejected_tap:  seq 3 taps[2].at: 9999-12-31"));
  // The count travels in the health report of the next upload.
  f.Queue(1);
  REQUIRE(f.uplinker->SyncOnce(false).ok());
  auto log = f.uplink.log();
  REQUIRE_FALSE(log.batches.empty());
  CHECK(log.batches[0].health->rejected_taps == 2);
}

TEST_CASE("a transient failure keeps every tap for the retry", "[uplinker]") {
  Fixture f;
  f.Queue(5);
  f.uplink.post_results = {Status::Ok(), Status::Unavailable("POST /v1/taps: HTTP 500")};
  Status s = f.uplinker->SyncOnce(false);
  REQUIRE_FALSE(s.ok());
  CHECK_FALSE(IsRejection(s));
  CHECK(f.store->Queue().value().depth == 2);  // the first batch was acknowledged
  CHECK(f.store->GetText(meta::kLastUploadError).value() ==
        std::optional<std::string>("POST /v1/taps: HTTP 500"));
  REQUIRE(f.uplinker->SyncOnce(false).ok());
  CHECK(f.SentSeqs() == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 4, 5});
  CHECK(f.store->Queue().value().depth == 0);
  CHECK(f.store->GetText(meta::kLastUploadError).value() == std::optional<std::string>(""));
}

TEST_CASE("a rejected batch is kept, counted and shown in status", "[uplinker]") {
  Fixture f;
  f.Queue(2);
  f.uplink.post_results = {Status::PermissionDenied("POST /v1/taps: HTTP 403: agent disabled")};
  Status s = f.uplinker->SyncOnce(false);
  REQUIRE_FALSE(s.ok());
  CHECK(IsRejection(s));
  CHECK(f.store->Queue().value().depth == 2);
  CHECK(f.store->GetInt(meta::kRejectedBatches).value() == std::optional<std::int64_t>(1));
  auto report = FormatStatus(*f.store, f.clock.Now()).value();
  CHECK_THAT(report, Catch::Contains("rejected_batches:   1"));
  CHECK_THAT(report, Catch::Contains("HTTP 403: agent disabled"));
  CHECK_THAT(report, Catch::Contains("queue_depth:        2"));
  REQUIRE(f.uplinker->SyncOnce(false).ok());
  auto log = f.uplink.log();
  REQUIRE(log.batches.size() == 2);
  CHECK(log.batches[1].health->rejected_batches == 1);
  CHECK(log.batches[1].health->last_upload_error == "POST /v1/taps: HTTP 403: agent disabled");
}

TEST_CASE("nothing to send and an allowlist at hand: no session", "[uplinker]") {
  Fixture f;
  REQUIRE(f.store->ApplyAllowlist(f.uplink.allowlist, f.clock.Now()).ok());
  f.Make();
  StopSignal stop;
  std::thread t([&] { f.uplinker->Run(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.uplink.log().sessions == 0);
  f.Queue(1);
  f.uplinker->Notify();
  for (int i = 0; i < 200 && f.store->Queue().value().depth > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(f.store->Queue().value().depth == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(f.uplink.log().sessions == 1);
  stop.Stop();
  f.uplinker->Stop();
  t.join();
}

TEST_CASE("first start fetches the allowlist once, retrying until it succeeds", "[uplinker]") {
  Fixture f;
  f.uplink.allowlist_results = {Status::Unavailable("connection refused")};
  StopSignal stop;
  std::thread t([&] { f.uplinker->Run(stop); });
  for (int i = 0; i < 300 && !f.allowlist.fetched(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(f.allowlist.fetched());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto log = f.uplink.log();
  CHECK(log.sessions == 2);
  CHECK(log.batches.empty());
  CHECK(log.allowlist_since == std::vector<std::uint64_t>{0, 0});
  stop.Stop();
  f.uplinker->Stop();
  t.join();
}

TEST_CASE("the daily health contact (a 24h heartbeat) posts an empty batch", "[uplinker]") {
  Fixture f;
  REQUIRE(f.store->ApplyAllowlist(f.uplink.allowlist, f.clock.Now()).ok());
  f.options.heartbeat = HeartbeatSchedule::Daily();
  f.Make();
  StopSignal stop;
  std::thread t([&] { f.uplinker->Run(stop); });
  for (int i = 0; i < 300 && f.uplink.log().batches.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto log = f.uplink.log();
  REQUIRE(log.batches.size() == 1);
  CHECK(log.batches[0].taps.empty());
  CHECK(log.batches[0].health.has_value());
  CHECK(log.sessions == 1);  // not again within the day
  stop.Stop();
  f.uplinker->Stop();
  t.join();
}

TEST_CASE("an allowlist answer older than one applied meanwhile is not applied", "[uplinker]") {
  // The upload session's GET is on the wire (since=2) while the reader thread's unknown-card
  // refresh fetches and applies version 4; the upload session's answer (version 3) then arrives.
  struct RacingUplink final : Uplink {
    std::function<void()> during_first_fetch;
    int fetches = 0;
    struct S final : UplinkSession {
      explicit S(RacingUplink& up) : up(up) {}
      RacingUplink& up;
      Result<wire::TapAck> PostTaps(const wire::TapBatch& b) override {
        return wire::TapAck{.acked_through = b.taps.empty() ? 0 : b.taps.back().seq};
      }
      Result<wire::AllowlistDelta> FetchAllowlist(std::uint64_t since) override {
        if (++up.fetches == 1) {
          up.during_first_fetch();
          return wire::AllowlistDelta{.version = 3, .full = false, .added = {Token('c')}};
        }
        CHECK(since == 2);
        return wire::AllowlistDelta{
            .version = 4, .full = false, .added = {Token('c')}, .removed = {Token('a')}};
      }
    };
    std::unique_ptr<UplinkSession> Begin() override { return std::make_unique<S>(*this); }
  } racing;
  Fixture f;
  REQUIRE(f.store->ApplyAllowlist(f.uplink.allowlist, f.clock.Now()).ok());  // version 2: {a}
  f.options.unknown_card_refresh = Millis(60'000);
  f.clock.Advance(Millis(120'000));
  Uplinker u(*f.store, racing, f.allowlist, f.clock, f.options, [](wire::Health&) {});
  REQUIRE(u.Init().ok());
  racing.during_first_fetch = [&] { CHECK(u.RefreshForUnknownCard().value()); };
  f.Queue(1);
  REQUIRE(u.SyncOnce(false).ok());
  CHECK(racing.fetches == 2);
  CHECK(f.allowlist.version() == 4);
  CHECK(f.allowlist.Contains(Token('c')));
  CHECK_FALSE(f.allowlist.Contains(Token('a')));  // removed in version 4: not brought back
  auto stored = f.store->LoadAllowlist().value();
  CHECK(stored.version == 4);
  CHECK(stored.tokens == std::vector<CardToken>{Token('c')});
  // Both fetches count as refreshes: an unknown card right now does not connect again.
  CHECK_FALSE(u.RefreshForUnknownCard().value());
  CHECK(racing.fetches == 2);
}

TEST_CASE("HTTP statuses map to transient or rejected", "[uplinker]") {
  CHECK(IsRejection(StatusOfHttp(400, "POST /v1/taps", R"({"error":"bad","field":"taps[0]"})")));
  CHECK_THAT(StatusOfHttp(400, "POST /v1/taps", R"({"error":"bad","field":"taps[0]"})").message(),
             Catch::Equals("POST /v1/taps: HTTP 400: taps[0]: bad"));
  CHECK(IsRejection(StatusOfHttp(403, "x", "")));
  CHECK(IsRejection(StatusOfHttp(409, "x", "not json")));
  CHECK_FALSE(IsRejection(StatusOfHttp(429, "x", "")));
  CHECK_FALSE(IsRejection(StatusOfHttp(408, "x", "")));
  CHECK_FALSE(IsRejection(StatusOfHttp(500, "x", "")));
  CHECK_FALSE(IsRejection(StatusOfHttp(503, "x", "")));
  CHECK_FALSE(IsRejection(Status::Unavailable("Could not connect to server")));
}

}  // namespace anshin::agent
