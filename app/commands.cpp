#include "app/commands.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "app/application.h"

namespace app {

namespace {

void print_failure(const std::string& message) { std::cerr << "cobinar-phone: " << message << "\n"; }

// Serves until SIGTERM or SIGINT, then lets in-flight requests finish and exits 0.
int serve(const Config& config) {
  core::SystemClock clock;
  core::SodiumRandom random;
  Log log(config.log_format, clock);

  // Signals are taken by one thread with sigwait, never by an async handler, so the stop path
  // can run ordinary code. The mask must be set before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);  // internal: wakes the signal thread when serving ends otherwise
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<Application> application;
  int port = 0;
  try {
    application = std::make_unique<Application>(config, Environment{clock, random, log});
    port = application->bind();
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }

  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    if (received != SIGUSR1) {
      log.info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
      application->stop();
    }
  });

  log.info("listening", {{"address", config.http.host + ":" + std::to_string(port)},
                         {"scheme", config.http.tls_cert.empty() ? "http" : "https"},
                         {"db", config.db_path},
                         {"version", COBINAR_VERSION}});
  application->run();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  application.reset();  // closes the database (and checkpoints the WAL)
  log.info("stopped");
  return 0;
}

int migrate(const Config& config) {
  core::SystemClock clock;
  try {
    const auto outcome = open_database(config, clock)->migration();
    if (outcome.from_version == outcome.to_version) {
      std::cout << "schema is up to date (version " << outcome.to_version << ")\n";
    } else {
      std::cout << "migrated schema from version " << outcome.from_version << " to " << outcome.to_version << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    print_failure(e.what());
    return 1;
  }
}

}  // namespace

int run_command(const CliOutcome& outcome) {
  if (!core::crypto_init()) {
    print_failure("libsodium cannot be initialised");
    return 1;
  }
  switch (outcome.command) {
    case Command::kServe: return serve(outcome.config);
    case Command::kMigrate: return migrate(outcome.config);
    case Command::kVersion:
      std::cout << "cobinar-phone " << COBINAR_VERSION << "\n";
      return 0;
  }
  return 1;
}

}  // namespace app
