#include "federation/batch.h"

#include <boost/json.hpp>

namespace comity::federation {
namespace {

namespace json = boost::json;

constexpr std::string_view kBatchSchema = "comity.envelope-batch/v1";
constexpr std::string_view kResultsSchema = "comity.receipt-batch/v1";
constexpr size_t kMaxResultText = 1000;  // of an error message in a result

// The length of `s` as a JSON string, quotes included (as boost::json writes it).
size_t QuotedSize(std::string_view s) {
  size_t n = 2;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

std::string Where(size_t i) { return "/envelopes/" + std::to_string(i); }

}  // namespace

std::string SerializeEnvelopeBatch(std::span<const std::string> envelopes) {
  json::array list;
  list.reserve(envelopes.size());
  for (const std::string& e : envelopes) list.emplace_back(e);
  return json::serialize(json::object{{"schema", kBatchSchema}, {"envelopes", std::move(list)}});
}

size_t SerializedBatchSize(size_t current, std::string_view next) {
  // {"schema":"comity.envelope-batch/v1","envelopes":[]} plus each quoted envelope and a comma.
  static const size_t empty = SerializeEnvelopeBatch({}).size();
  return (current == 0 ? empty : current + 1) + QuotedSize(next);
}

StatusOr<std::vector<std::string>> ParseEnvelopeBatch(std::string_view body) {
  if (body.size() > kMaxBatchBytes) {
    return ResourceExhaustedError("a batch is at most " + std::to_string(kMaxBatchBytes) +
                                  " bytes; this one has " + std::to_string(body.size()));
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return InvalidArgumentError("the batch is not JSON: " + ec.message(), "");
  if (!v.is_object()) return InvalidArgumentError("the batch must be a JSON object", "");
  const json::object& o = v.as_object();
  for (const auto& [key, value] : o) {
    if (key != "schema" && key != "envelopes") {
      return InvalidArgumentError("unknown member \"" + std::string(key) + "\" in the batch",
                                  "/" + std::string(key));
    }
  }
  const json::value* schema = o.if_contains("schema");
  if (schema == nullptr || !schema->is_string() || schema->as_string() != kBatchSchema) {
    return InvalidArgumentError("\"schema\" must be \"" + std::string(kBatchSchema) + "\"",
                                "/schema");
  }
  const json::value* list = o.if_contains("envelopes");
  if (list == nullptr || !list->is_array()) {
    return InvalidArgumentError("\"envelopes\" must be an array of envelope texts", "/envelopes");
  }
  const json::array& a = list->as_array();
  if (a.empty() || a.size() > kMaxBatchEnvelopes) {
    const std::string why = "a batch holds 1 to " + std::to_string(kMaxBatchEnvelopes) +
                            " envelopes; this one has " + std::to_string(a.size());
    if (a.empty()) return InvalidArgumentError(why, "/envelopes");
    return ResourceExhaustedError(why);
  }
  std::vector<std::string> out;
  out.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) {
      return InvalidArgumentError("each envelope travels as a JSON string (its exact text)",
                                  Where(i));
    }
    out.emplace_back(a[i].as_string());
  }
  return out;
}

std::string SerializeBatchResults(std::span<const BatchResult> results) {
  json::array list;
  list.reserve(results.size());
  for (const BatchResult& r : results) {
    if (r.status == 200) {
      list.emplace_back(json::object{{"status", 200}, {"receipt", r.receipt}});
    } else {
      list.emplace_back(json::object{
          {"status", r.status}, {"error", json::object{{"code", r.code}, {"message", r.message}}}});
    }
  }
  return json::serialize(json::object{{"schema", kResultsSchema}, {"results", std::move(list)}});
}

StatusOr<std::vector<BatchResult>> ParseBatchResults(std::string_view body, size_t expected) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return InvalidArgumentError("the batch answer is not a JSON object");
  const json::object& o = v.as_object();
  const json::value* schema = o.if_contains("schema");
  if (schema == nullptr || !schema->is_string() || schema->as_string() != kResultsSchema) {
    return InvalidArgumentError("the batch answer's \"schema\" is not \"" +
                                std::string(kResultsSchema) + "\"");
  }
  const json::value* list = o.if_contains("results");
  if (list == nullptr || !list->is_array() || list->as_array().size() != expected) {
    return InvalidArgumentError("the batch answer does not hold one result per envelope (" +
                                std::to_string(expected) + ")");
  }
  std::vector<BatchResult> out;
  out.reserve(expected);
  for (const json::value& item : list->as_array()) {
    const json::object* r = item.if_object();
    const json::value* status = r != nullptr ? r->if_contains("status") : nullptr;
    if (status == nullptr || !status->is_int64() || status->as_int64() < 100 ||
        status->as_int64() > 599) {
      return InvalidArgumentError("a batch result has no HTTP status");
    }
    BatchResult b;
    b.status = static_cast<int>(status->as_int64());
    if (b.status == 200) {
      const json::value* receipt = r->if_contains("receipt");
      if (receipt == nullptr || !receipt->is_string()) {
        return InvalidArgumentError("an accepted batch result carries no receipt");
      }
      b.receipt = std::string(receipt->as_string());
    } else if (const json::value* e = r->if_contains("error"); e != nullptr && e->is_object()) {
      if (const auto* c = e->as_object().if_contains("code"); c && c->is_string()) {
        b.code = std::string(c->as_string()).substr(0, 64);
      }
      if (const auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
        b.message = std::string(m->as_string()).substr(0, kMaxResultText);
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace comity::federation
