// Time-ordered identifiers (UUIDv7, RFC 9562), so "newest first" is an index scan.
// Thread-safety follows the Random passed in.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/random.h"

namespace core {

// "0192f3a4-5b6c-7d8e-9f01-23456789abcd"; ids made later sort after earlier ones (ms resolution).
std::string new_id(const Clock& clock, Random& random);

}  // namespace core
