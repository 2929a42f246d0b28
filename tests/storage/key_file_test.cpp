#include "storage/key_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "tests/support/temp_dir.h"

TEST_CASE("the key file is created 0600 on first use and read back after") {
  testing::TempDir dir;
  const std::string path = dir.file("server.key");
  storage::KeyBytes first{};
  first.fill(0xab);
  storage::KeyBytes second{};
  second.fill(0x01);

  CHECK(storage::load_or_create_key_file(path, first) == first);
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  std::string expected_hex;
  for (int i = 0; i < 32; ++i) expected_hex += "ab";
  CHECK(testing::read_file(path) == expected_hex + "\n");

  // An existing key is kept, never replaced.
  CHECK(storage::load_or_create_key_file(path, second) == first);
}

TEST_CASE("a malformed or unreadable key file is refused") {
  testing::TempDir dir;
  const std::string path = dir.file("server.key");
  testing::write_file(path, "not hex\n");
  CHECK_THROWS_AS(storage::load_or_create_key_file(path, {}), storage::KeyFileError);
  CHECK_THROWS_AS(storage::load_or_create_key_file(dir.file("no/such/dir/key"), {}), storage::KeyFileError);
}
