// The cost of signing a verification receipt (SPEC §16) on one thread, outside the server:
//   build/bench/cobinar-bench-receipts [COUNT]      (default 20000)
// Prints the median of 5 runs in µs per receipt, and the JWS size in bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <vector>

#include "core/crypto.h"
#include "core/receipts.h"
#include "storage/sqlite/database.h"

int main(int argc, char** argv) {
  if (!core::crypto_init()) return 1;
  const int count = argc > 1 ? std::atoi(argv[1]) : 20000;
  const auto dir = std::filesystem::temp_directory_path() / ("cobinar-bench-receipts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  core::SystemClock clock;
  core::SodiumRandom random;
  core::ServerKey::Bytes master{};
  random.fill(master);
  const core::ServerKey key(master);
  double median = 0;
  std::size_t size = 0;
  {
    auto db = storage::Database::open({(dir / "db.sqlite").string(), storage::Durability::kNormal},
                                      core::format_timestamp(clock.now()));
    core::ReceiptSigner signer(*db, clock, random, key, {"cobinar-phone", std::chrono::seconds(600), std::chrono::seconds(300)});
    signer.ensure_signing_key();
    const core::ReceiptFacts facts{"01900000-0000-7000-8000-000000000001", "ph_test_client_0123456789abcdef",
                                   "+447911123456", "01900000-0000-7000-8000-000000000002", clock.now(), "nonce-1"};
    size = signer.sign(facts).token.size();
    std::vector<double> runs;
    for (int run = 0; run < 5; ++run) {
      const auto began = std::chrono::steady_clock::now();
      for (int i = 0; i < count; ++i) signer.sign(facts);
      runs.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - began).count() / count);
    }
    std::sort(runs.begin(), runs.end());
    median = runs[2];
  }
  std::filesystem::remove_all(dir);
  std::printf("receipt signing: %.1f µs per receipt (median of 5 runs of %d), %zu bytes\n", median, count, size);
  return 0;
}
