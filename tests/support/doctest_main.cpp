#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>

#include "core/crypto.h"

int main(int argc, char** argv) {
  if (!core::crypto_init()) return 1;
  ::signal(SIGPIPE, SIG_IGN);
  doctest::Context context(argc, argv);
  return context.run();
}
