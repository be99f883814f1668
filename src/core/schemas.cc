#include "core/schemas.h"

#include <boost/json/parse.hpp>
#include <memory>
#include <string>

namespace comity {
namespace {

struct Registry {
  struct Entry {
    std::string id;
    std::string_view text;
    std::unique_ptr<JsonSchema> schema;
  };
  std::vector<Entry> entries;
  Status status;

  Registry() {
    for (size_t i = 0; i < core_internal::kEmbeddedSchemaCount; ++i) {
      const auto& f = core_internal::kEmbeddedSchemas[i];
      boost::json::error_code ec;
      boost::json::value doc = boost::json::parse(f.text, ec);
      if (ec) {
        Fail(InternalError(std::string(f.name) + ": " + ec.message()));
        continue;
      }
      auto compiled = JsonSchema::Compile(doc);
      if (!compiled.ok()) {
        Fail(compiled.status().WithContext(f.name));
        continue;
      }
      Entry e;
      e.id = (*compiled)->id();
      e.text = f.text;
      e.schema = std::move(compiled).value();
      entries.push_back(std::move(e));
    }
  }

  void Fail(Status s) {
    if (status.ok()) status = Status(StatusCode::kInternal, s.message());
  }

  const Entry* Find(std::string_view id) const {
    for (const auto& e : entries) {
      if (e.id == id) return &e;
    }
    return nullptr;
  }
};

const Registry& Get() {
  static const Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

}  // namespace

const JsonSchema* ShippedSchema(std::string_view id) {
  const auto* e = Get().Find(id);
  return e == nullptr ? nullptr : e->schema.get();
}

std::string_view ShippedSchemaText(std::string_view id) {
  const auto* e = Get().Find(id);
  return e == nullptr ? std::string_view() : e->text;
}

std::vector<std::string_view> ShippedSchemaIds() {
  std::vector<std::string_view> ids;
  for (const auto& e : Get().entries) ids.push_back(e.id);
  return ids;
}

Status ShippedSchemasStatus() { return Get().status; }

}  // namespace comity
