// What every end-to-end test file needs: the binary under test, a server's logged port, and a
// free loopback port. Header-only; COBINAR_BINARY comes from tests/CMakeLists.txt.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>

#include "tests/e2e/process.h"

namespace testing {

// The binary under test: COBINAR_TEST_BINARY (CI points it at the static release build too),
// else the one this build made.
inline std::string binary() {
  const char* override_path = std::getenv("COBINAR_TEST_BINARY");
  return override_path ? override_path : COBINAR_BINARY;
}

// Waits for `serve` to log that it listens (on 127.0.0.1) and returns its port.
inline int start_and_wait(Process& process) {
  REQUIRE_MESSAGE(process.wait_for_stderr("listening", std::chrono::seconds(10)), process.err());
  std::smatch match;
  const std::string err = process.err();
  REQUIRE(std::regex_search(err, match, std::regex(R"(address=127\.0\.0\.1:(\d+))")));
  return std::stoi(match[1]);
}

// A loopback port that was free a moment ago (for a server the test starts later).
inline int free_port() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);
  return ntohs(address.sin_port);
}

}  // namespace testing
