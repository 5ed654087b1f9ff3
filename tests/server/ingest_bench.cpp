// In-process benchmark of the ingest path: IngestService on a temp SQLite file (WAL,
// synchronous=FULL unless --sync says otherwise), C concurrent callers each uploading batches
// of B taps for its own agent, for a bounded time. Prints taps_per_s and ACK latency
// percentiles. The network layer is not involved (bench/ingest measures the whole server).
//
//   ingest_bench [--clients 64] [--batch 20] [--seconds 5] [--children 4000] [--sync full]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "notify-server/ingest/ingest_service.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

using namespace anshin;

int main(int argc, char** argv) {
  int clients = 64, batch = 20, seconds = 5, children = 4000;
  std::string sync = "full";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--clients")
      clients = std::stoi(v);
    else if (k == "--batch")
      batch = std::stoi(v);
    else if (k == "--seconds")
      seconds = std::stoi(v);
    else if (k == "--children")
      children = std::stoi(v);
    else if (k == "--sync")
      sync = v;
    else {
      std::fprintf(stderr,
                   "usage: ingest_bench [--clients N] [--batch B] [--seconds S] [--children N] "
                   "[--sync M]\n");
      return 2;
    }
  }
  fakes::TempDir dir{"ingest-bench"};
  const TimePoint t0 = ParseRfc3339("2026-11-26T06:00:00Z").value();
  std::vector<CardToken> cards;
  {
    store::SqliteOptions so;
    so.path = dir / "anshin.db";
    so.synchronous = sqlite::SyncMode::kOff;  // setup only
    auto st = store::SqliteStore::Open(so).value();
    fakes::Seed seed(*st, store::Actor{"bench", t0});
    FacilityId fid = seed.Facility("bench", "bench");
    for (int c = 0; c < clients; ++c)
      seed.Agent("agent-" + std::to_string(c), fid, std::string(64, 'a'));
    for (int i = 0; i < children; ++i) {
      char hex[33];
      std::snprintf(hex, sizeof hex, "%032x", i + 1);
      cards.push_back(CardToken::Parse(hex).value());
      ChildId id = seed.ChildWithCard("child", fid, cards.back());
      seed.VerifiedGuardian(id, "g" + std::to_string(i) + "@example.jp");
    }
  }
  store::SqliteOptions so;
  so.path = dir / "anshin.db";
  so.synchronous = sqlite::kSyncModeNames.Parse(sync).value();
  auto st = store::SqliteStore::Open(so).value();
  ingest::IngestOptions o;
  o.zones = fakes::FixedJst();
  auto services = std::make_unique<ingest::IngestService>(*st, o);

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> taps{0}, errors{0};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  rusage usage_before{};
  getrusage(RUSAGE_SELF, &usage_before);
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      server::Peer peer{"agent-" + std::to_string(c), std::string(64, 'a')};
      std::uint64_t seq = 0;
      std::size_t card = static_cast<std::size_t>(c);
      while (!stop.load(std::memory_order_relaxed)) {
        wire::TapBatch b;
        b.agent = peer.agent_name;
        b.sent_at = t0;
        for (int i = 0; i < batch; ++i) {
          ++seq;
          card = (card + 7919) % cards.size();
          b.taps.push_back(wire::Tap{seq, cards[card],
                                     t0 + Millis(static_cast<std::int64_t>(seq) * 500), "entrance",
                                     Direction::kAuto});
        }
        auto sent = std::chrono::steady_clock::now();
        std::promise<Result<wire::TapAck>> p;
        services->IngestTaps(peer, std::move(b), t0,
                             [&p](Result<wire::TapAck> r) { p.set_value(std::move(r)); });
        auto r = p.get_future().get();
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent)
                .count());
        if (!r.ok() || r->acked_through != seq) {
          ++errors;
        } else {
          taps += static_cast<std::uint64_t>(batch);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  std::error_code wal_ec;
  const auto wal_bytes = std::filesystem::file_size(dir / "anshin.db-wal", wal_ec);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage_after{};
  getrusage(RUSAGE_SELF, &usage_after);
  auto cpu_s = [](const rusage& u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu = cpu_s(usage_after) - cpu_s(usage_before);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(q * all.size()))];
  };
  std::string m = services->MetricsText();  // counters only: no store access
  auto metric = [&](const char* name) {
    auto pos = m.find(std::string("\n") + name + " ");
    return pos == std::string::npos ? std::string("?")
                                    : m.substr(pos + std::strlen(name) + 2,
                                               m.find('\n', pos + 1) - pos - std::strlen(name) - 2);
  };
  std::printf("clients=%d batch=%d sync=%s seconds=%.1f\n", clients, batch, sync.c_str(), elapsed);
  std::printf("wal_mb_at_end=%.1f\n", wal_ec ? 0.0 : static_cast<double>(wal_bytes) / 1e6);
  std::printf("cpu_us_per_tap=%.1f (whole process: callers and writer)\n",
              taps.load() > 0 ? cpu * 1e6 / static_cast<double>(taps.load()) : 0.0);
  std::printf(
      "taps_per_s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%llu commits=%s batches=%s outbox_rows=%s\n",
      static_cast<double>(taps.load()) / elapsed, pct(0.50), pct(0.99),
      static_cast<unsigned long long>(errors.load()), metric("anshin_ingest_commits_total").c_str(),
      metric("anshin_ingest_batches_total").c_str(), metric("anshin_outbox_queued_total").c_str());
  return errors.load() == 0 ? 0 : 1;
}
