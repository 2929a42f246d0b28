// cobinar-phone: parse the command line, run the command.
#include <iostream>

#include "app/cli.h"
#include "app/commands.h"

int main(int argc, char** argv) {
  const app::CliOutcome outcome = app::parse_command_line(argc, argv, std::cout, std::cerr);
  if (outcome.exit_code) return *outcome.exit_code;
  return app::run_command(outcome);
}
