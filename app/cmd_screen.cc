// `comity screen`: screen requests against the rule base and the two states' profiles.
//
//   comity screen [--profiles DIR] [--rules DIR] [--format json|text] REQUEST.json
//   comity screen [--profiles DIR] [--rules DIR] --batch FILE.jsonl   (or --batch - for stdin)
//
// One request: the decision on stdout (exit 0 whatever the outcome); invalid input (malformed
// JSON, schema violation, unknown state, invalid profile) exits 2 with a message on stderr
// naming the file or JSON Pointer; anything else exits 1.
// Batch: one request per line, one decision per line in the same order; an invalid line gets
// {"error": {"code", "message", "pointer"}} on its line and the batch goes on. Memory stays
// bounded: lines are streamed, a line over the 1 MiB document limit is skipped unread, profiles
// are loaded once per state, and the evaluation scratch is reused.
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "app/command.h"
#include "core/codec.h"
#include "rules/profiles.h"
#include "rules/rulebase.h"
#include "rules/text.h"

namespace comity::app {
namespace {

struct ScreenOptions {
  std::string request_path;
  std::string batch;
  std::string profiles;
  std::string rules;
  std::string format = "json";
};

ScreenOptions& Opts() {
  static ScreenOptions o;
  return o;
}

// Reads a whole file, refusing more than kMaxDocumentBytes.
StatusOr<std::string> ReadRequestFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return InvalidArgumentError(path + ": cannot open: " + std::strerror(errno));
  }
  std::string text(kMaxDocumentBytes + 1, '\0');
  size_t got = std::fread(text.data(), 1, text.size(), f);
  bool error = std::ferror(f) != 0;
  std::fclose(f);
  if (error) return Status(StatusCode::kUnavailable, path + ": cannot read");
  if (got > kMaxDocumentBytes) {
    return ResourceExhaustedError(path + ": larger than " + std::to_string(kMaxDocumentBytes) +
                                  " bytes");
  }
  text.resize(got);
  return text;
}

// Streams lines from a FILE*, never holding more than a fixed buffer and one line (at most the
// document limit). A line that lies inside the buffer is returned in place, without a copy.
class LineReader {
 public:
  explicit LineReader(FILE* f) : f_(f), buf_(1 << 18) {}

  // False at end of input. The view is valid until the next call. `too_long` is set (and the
  // view empty) for a line over the limit.
  bool Next(std::string_view* line, bool* too_long) {
    line_.clear();
    *too_long = false;
    bool any = false;
    bool partial = false;
    while (true) {
      if (start_ == end_) {
        if (eof_) break;
        end_ = std::fread(buf_.data(), 1, buf_.size(), f_);
        start_ = 0;
        if (end_ == 0) {
          eof_ = true;
          break;
        }
      }
      any = true;
      const char* begin = buf_.data() + start_;
      const void* nl = std::memchr(begin, '\n', end_ - start_);
      size_t n = nl ? static_cast<const char*>(nl) - begin : end_ - start_;
      start_ += n;
      if (nl) ++start_;
      if (nl && !partial && n <= kMaxDocumentBytes) {
        *line = Trim(std::string_view(begin, n));
        return true;
      }
      partial = true;
      if (!*too_long) {
        if (line_.size() + n > kMaxDocumentBytes) {
          *too_long = true;
          line_.clear();
        } else {
          line_.append(begin, n);
        }
      }
      if (nl) break;
    }
    *line = *too_long ? std::string_view() : Trim(line_);
    return any;
  }

  bool failed() const { return std::ferror(f_) != 0; }

 private:
  static std::string_view Trim(std::string_view s) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }

  FILE* f_;
  std::vector<char> buf_;
  std::string line_;
  size_t start_ = 0, end_ = 0;
  bool eof_ = false;
};

std::string ErrorCode(const Status& s) {
  std::string code(StatusCodeName(s.code()));
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return code;
}

std::string ErrorLine(const Status& s) {
  boost::json::object err;
  err["code"] = ErrorCode(s);
  err["message"] = s.message();
  if (!s.pointer().empty()) err["pointer"] = s.pointer();
  boost::json::object doc;
  doc["error"] = std::move(err);
  return boost::json::serialize(doc);
}

class Screener {
 public:
  Screener(std::shared_ptr<const rules::RuleBase> rb, std::string profiles_dir, bool text)
      : rb_(std::move(rb)), profiles_(std::move(profiles_dir)), text_(text) {}

  // JSON decisions written by RuleBase::AppendDecisionJson (the batch's hot path) rather than
  // through a Decision and the codec's serialiser (one request, and --format text). Both give
  // the same bytes; the CLI tests compare a batch with the same requests screened one by one.
  void set_direct_json(bool on) { direct_json_ = on; }

  // Screens one request document; on success appends the decision (JSON or text) to `out`.
  Status Screen(std::string_view document, std::string* out) {
    Request* request = &request_;
    RETURN_IF_ERROR(ParseRequestInto(document, request));
    StatusOr<const StateProfile*> requesting =
        Profile(request->requesting_state, "/requesting_state");
    if (!requesting.ok()) return requesting.status();
    StatusOr<const StateProfile*> requested = Profile(request->requested_state, "/requested_state");
    if (!requested.ok()) return requested.status();
    rb_->Evaluate(*request, **requesting, **requested, &evaluation_);
    if (direct_json_ && !text_) {
      rb_->AppendDecisionJson(evaluation_, *request, **requesting, **requested, out);
      out->push_back('\n');
      return OkStatus();
    }
    rb_->ToDecision(evaluation_, *request, **requesting, **requested, &decision_);
    if (text_) {
      *out += rules::DecisionText(decision_, *request, **requesting, **requested);
    } else {
      AppendDecision(decision_, out);
      out->push_back('\n');
    }
    return OkStatus();
  }

 private:
  StatusOr<const StateProfile*> Profile(StateCode code, const char* pointer) {
    StatusOr<const StateProfile*> p = profiles_.Get(code);
    if (p.ok()) return p;
    // The pointer names the request field that led to the profile; a profile's own problems
    // are in the message, with its file name.
    return Status(p.status().code(), std::string(pointer) + ": " + p.status().message(), pointer);
  }

  std::shared_ptr<const rules::RuleBase> rb_;
  rules::ProfileDirectory profiles_;
  bool text_;
  bool direct_json_ = false;
  rules::Evaluation evaluation_;
  Request request_;    // reused: ParseRequestInto recycles its strings and arrays
  Decision decision_;  // reused: its strings keep their capacity from request to request
};

std::shared_ptr<const rules::RuleBase> LoadRules(const std::string& dir) {
  rules::LoadResult r = rules::RuleBase::LoadDirectory(dir);
  if (r.ok()) return r.rulebase;
  for (const rules::RuleError& e : r.errors) {
    rules::RuleError shown = e;
    if (e.line > 0) shown.file = (std::filesystem::path(dir) / e.file).generic_string();
    std::fprintf(stderr, "%s\n", shown.ToString().c_str());
  }
  std::fprintf(stderr, "comity: the rule base in %s has errors; nothing was screened\n",
               dir.c_str());
  return nullptr;
}

void PrintError(const Status& s) {
  // The codec's messages already start with the JSON Pointer; add it only when missing.
  std::string msg = s.message();
  if (!s.pointer().empty() && msg.find(s.pointer()) == std::string::npos) {
    msg = s.pointer() + ": " + msg;
  }
  std::fprintf(stderr, "comity: %s\n", msg.c_str());
}

// Writes all of `data` to file descriptor `fd`; false on an error (errno says which).
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Decisions are collected in one buffer and written with few write(2) calls: at 2 KB a
// decision, 1 MiB is about 500 of them per call.
constexpr size_t kBatchOutputBytes = 1 << 20;

int RunBatch(Screener& screener, const std::string& source) {
  FILE* in = source == "-" ? stdin : std::fopen(source.c_str(), "rb");
  if (in == nullptr) {
    std::fprintf(stderr, "comity: %s: cannot open: %s\n", source.c_str(), std::strerror(errno));
    return 2;
  }
  LineReader reader(in);
  std::string_view line;
  std::string out;
  out.reserve(kBatchOutputBytes + (kBatchOutputBytes >> 2));
  bool write_failed = false;
  bool too_long = false;
  size_t line_no = 0;
  while (reader.Next(&line, &too_long)) {
    ++line_no;
    Status s;
    if (too_long) {
      s = ResourceExhaustedError("line " + std::to_string(line_no) + ": larger than " +
                                 std::to_string(kMaxDocumentBytes) + " bytes");
    } else if (line.find_first_not_of(" \t") == std::string::npos) {
      s = InvalidArgumentError("line " + std::to_string(line_no) + ": empty line");
    } else {
      s = screener.Screen(line, &out);
    }
    if (!s.ok()) {
      out += ErrorLine(s);
      out.push_back('\n');
    }
    if (out.size() >= kBatchOutputBytes) {
      write_failed = !WriteAll(STDOUT_FILENO, out);
      out.clear();
      if (write_failed) break;  // e.g. the reader went away: screening more is pointless
    }
  }
  // Nothing else in this command writes to stdout, so stdio's buffer is empty: the bytes go
  // out in order.
  if (!write_failed) write_failed = !WriteAll(STDOUT_FILENO, out);
  bool failed = reader.failed();
  if (in != stdin) std::fclose(in);
  if (write_failed || failed) {
    std::fprintf(stderr, "comity: I/O error while screening the batch\n");
    return 1;
  }
  return 0;
}

int Run(const ScreenOptions& o) {
  if (o.format != "json" && o.format != "text") {
    std::fprintf(stderr, "comity: --format must be json or text, not '%s'\n", o.format.c_str());
    return 2;
  }
  if (o.request_path.empty() == o.batch.empty()) {
    std::fprintf(stderr, "comity: give either a REQUEST.json or --batch FILE.jsonl\n");
    return 2;
  }
  std::filesystem::path home(DataHome());
  auto rb = LoadRules(o.rules.empty() ? (home / "rules").string() : o.rules);
  if (!rb) return 1;
  Screener screener(rb, o.profiles.empty() ? (home / "profiles").string() : o.profiles,
                    o.format == "text");
  if (!o.batch.empty()) {
    screener.set_direct_json(true);
    return RunBatch(screener, o.batch);
  }
  StatusOr<std::string> text = ReadRequestFile(o.request_path);
  if (!text.ok()) {
    PrintError(text.status());
    return ExitCodeFor(text.status());
  }
  std::string out;
  Status s = screener.Screen(*text, &out);
  if (!s.ok()) {
    PrintError(s.WithContext(o.request_path));
    return ExitCodeFor(s);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return 1;
  return 0;
}

Registrar reg("screen", [](CLI::App& app, Context& ctx) {
  ScreenOptions& o = Opts();
  auto* cmd = app.add_subcommand(
      "screen", "Screen a request against the treaty rule base and the two states' profiles");
  cmd->add_option("REQUEST", o.request_path, "The request (comity.request/v1 JSON)");
  cmd->add_option("--batch", o.batch,
                  "Screen one request per line of FILE (- for stdin); one decision per line");
  cmd->add_option("--profiles", o.profiles,
                  "Directory of state profiles <CODE>.json (default: the shipped profiles/)");
  cmd->add_option("--rules", o.rules, "Rule base directory (default: the shipped rules/)");
  cmd->add_option("--format", o.format, "json (default) or text, a readable explanation");
  cmd->callback([&ctx, &o] { ctx.exit_code = Run(o); });
});

}  // namespace
}  // namespace comity::app
