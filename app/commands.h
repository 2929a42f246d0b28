// The commands of the binary. Each returns the process exit code and reports failures as one
// line on stderr.
#pragma once

#include "app/cli.h"

namespace app {

int run_command(const CliOutcome& outcome);

}  // namespace app
