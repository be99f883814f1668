// The `comity` command-line tool. Subcommands live in app/cmd_*.cc.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "app/command.h"

namespace comity::app {
namespace {

std::vector<std::pair<std::string, RegisterFn>>& Registry() {
  static std::vector<std::pair<std::string, RegisterFn>> registry;
  return registry;
}

}  // namespace

Registrar::Registrar(std::string name, RegisterFn fn) {
  Registry().emplace_back(std::move(name), std::move(fn));
}

void RegisterAll(CLI::App& app, Context& ctx) {
  for (auto& [name, fn] : Registry()) fn(app, ctx);
}

int ReportError(const Status& status) {
  // Validation messages already start with their pointer; add it only where one does not.
  std::string msg = status.message();
  if (!status.pointer().empty() && msg.rfind(status.pointer(), 0) != 0) {
    msg = status.pointer() + ": " + msg;
  }
  std::fprintf(stderr, "comity: %s\n", msg.c_str());
  return ExitCodeFor(status);
}

std::string DataHome() {
  if (const char* home = std::getenv("COMITY_HOME"); home != nullptr && *home != '\0') return home;
  return COMITY_SOURCE_DIR;
}

}  // namespace comity::app

int main(int argc, char** argv) {
  CLI::App app{
      "Comity: cross-border requests for electronic evidence under the UN Convention against "
      "Cybercrime, screened against the treaty and each state's law, on a public log.",
      "comity"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "comity 0.1.0");
  comity::app::Context ctx;
  comity::app::RegisterAll(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // invalid invocation is invalid input
  }
  return ctx.exit_code;
}
