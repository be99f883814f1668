// The shipped JSON Schemas (spec/*.schema.json), embedded into the library at build time and
// compiled once on first use, so that the binary never reads the source tree.
//
//   const JsonSchema* s = ShippedSchema(kRequestSchemaId);
//   Status st = s->Check(value);
//   std::string_view text = ShippedSchemaText(kRequestSchemaId);  // the file as shipped
//
// Thread-safe: compilation happens once (a function-local static); compiled schemas are
// immutable.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/json_schema.h"
#include "core/status.h"

namespace comity {

inline constexpr std::string_view kRequestSchemaId = "comity.request/v1";
inline constexpr std::string_view kProfileSchemaId = "comity.state/v1";
inline constexpr std::string_view kDecisionSchemaId = "comity.decision/v1";

// The compiled schema with this $id, or null if none was shipped (or if the shipped schemas
// failed to compile; ShippedSchemasStatus says why).
const JsonSchema* ShippedSchema(std::string_view id);

// The text of the schema file with this $id, or "" if none.
std::string_view ShippedSchemaText(std::string_view id);

// The $id of every shipped schema, in file-name order.
std::vector<std::string_view> ShippedSchemaIds();

// OK when every embedded schema parsed and compiled; otherwise the first problem (a build
// defect, caught by the unit tests).
Status ShippedSchemasStatus();

namespace core_internal {
struct EmbeddedFile {
  std::string_view name;  // "request.schema.json"
  std::string_view text;
};
// Defined in the generated embedded_schemas.cc.
extern const EmbeddedFile kEmbeddedSchemas[];
extern const size_t kEmbeddedSchemaCount;
}  // namespace core_internal

}  // namespace comity
