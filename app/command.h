// How the `comity` binary's subcommands plug in.
//
// Each app/cmd_*.cc defines a registrar that adds its subcommands to the CLI11 app:
//
//   static comity::app::Registrar reg("screen", [](CLI::App& app, comity::app::Context& ctx) {
//     auto* cmd = app.add_subcommand("screen", "Screen a request against the rule base");
//     ...
//     cmd->callback([&ctx] { ctx.exit_code = RunScreen(...); });
//   });
//
// A command reports failures as a Status through ReportError (stderr, never stdout) and sets
// ctx.exit_code: 0 success, 1 failure of the operation, 2 invalid input (ExitCodeFor).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/status.h"

namespace comity::app {

struct Context {
  int exit_code = 0;
};

using RegisterFn = std::function<void(CLI::App&, Context&)>;

class Registrar {
 public:
  Registrar(std::string name, RegisterFn fn);
};

// Registered command groups, in registration order.
void RegisterAll(CLI::App& app, Context& ctx);

// Prints "comity: <message>" to stderr (with the JSON Pointer when there is one) and returns
// the exit code for the status.
int ReportError(const Status& status);

// Where shipped data (rules/, profiles/, spec/) lives: $COMITY_HOME if set, else the source
// tree the binary was built from.
std::string DataHome();

}  // namespace comity::app
