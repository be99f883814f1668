// A JSON Schema (draft 2020-12) validator for the subset that spec/*.schema.json use, compiled
// once into a tree and then run without allocation while the instance is valid.
//
//   StatusOr<std::unique_ptr<JsonSchema>> s = JsonSchema::Compile(schema_json);
//   Status st = (*s)->Check(instance);
//   // st.message(): "/measures/0/duration_days: expected an integer, got a string; /offences/0:
//   //                unknown property \"penalty\""
//   // st.pointer(): "/measures/0/duration_days"  (the first problem's)
//
// Keywords: type (integer is a number with no fraction), enum, const, required, properties,
// additionalProperties (false or a schema), items, minItems, maxItems, uniqueItems, minLength,
// maxLength (in code points), pattern (see core/pattern.h), minimum, maximum, format (date,
// date-time: real calendar checks), $ref to "#" or "#/..." in the same document, $defs.
// Annotations ($schema, $id, $comment, title, description, default, examples) are accepted and
// ignored, except that a `default` must itself be valid. Any other keyword is refused by Compile,
// so a schema can never silently mean more than is checked.
//
// Problems are reported in document order, depth first; within an object, members in the
// instance's order, then missing required properties in the schema's order. An instance of the
// wrong type gets one problem and is not examined further. At most kMaxReportedErrors are kept.
//
// Thread-safe: a compiled JsonSchema is immutable; ValidationErrors is not thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace comity {

inline constexpr size_t kMaxReportedErrors = 10;

// A position in a JSON document as a chain of segments living on the caller's stack, so that
// the success path never builds pointer strings.
struct JsonPath {
  const JsonPath* parent = nullptr;
  std::string_view key;  // when !is_index
  size_t index = 0;      // when is_index
  bool is_index = false;

  JsonPath Child(std::string_view k) const { return JsonPath{this, k, 0, false}; }
  JsonPath Child(size_t i) const { return JsonPath{this, {}, i, true}; }
};

// The RFC 6901 JSON Pointer of `path` ("" for the root; "~" and "/" escaped as "~0" and "~1").
std::string JsonPointer(const JsonPath* path);
// Appends one escaped reference token ("a/b" -> "a~1b").
void AppendPointerToken(std::string* out, std::string_view token);

// One problem: where (JSON Pointer) and why (plain words).
struct SchemaError {
  std::string pointer;
  std::string reason;
  // "pointer: reason", or just the reason at the document root.
  std::string ToString() const;
};

// Collects up to `limit` problems and remembers whether more were found.
class ValidationErrors {
 public:
  explicit ValidationErrors(size_t limit = kMaxReportedErrors) : limit_(limit) {}

  void Add(const JsonPath* path, std::string reason);
  void Add(std::string pointer, std::string reason);
  // True once a problem beyond the limit was found: validation stops looking.
  bool full() const { return more_; }
  bool more() const { return more_; }
  bool empty() const { return errors_.empty() && !more_; }
  const std::vector<SchemaError>& errors() const { return errors_; }

  // OK when empty; else kInvalidArgument whose message joins every problem with "; " (followed
  // by "; and more problems not shown" if some were dropped) and whose pointer is the first
  // problem's.
  Status ToStatus() const;

 private:
  size_t limit_;
  std::vector<SchemaError> errors_;
  bool more_ = false;
};

struct SchemaNode;  // compiled; defined in json_schema.cc

class JsonSchema {
 public:
  // Compiles a schema document. kInvalidArgument naming the schema location for an unsupported
  // keyword, a malformed keyword value, an unresolvable $ref or a bad pattern.
  static StatusOr<std::unique_ptr<JsonSchema>> Compile(const boost::json::value& document);

  ~JsonSchema();
  JsonSchema(const JsonSchema&) = delete;
  JsonSchema& operator=(const JsonSchema&) = delete;

  // The document's $id ("" if none).
  const std::string& id() const { return id_; }

  // OK, or kInvalidArgument as described at the top of this file.
  Status Check(const boost::json::value& instance) const;

  // Appends the problems of `instance` (located at `path`) against the subschema `node` (the
  // root if null). Returns true when no problem was added.
  bool Validate(const boost::json::value& instance, const JsonPath* path, ValidationErrors* errors,
                const SchemaNode* node = nullptr) const;

  // The compiled subschema at a JSON Pointer into the schema document ("" is the root,
  // "/$defs/offence", "/properties/findings/items"), or null if there is none.
  const SchemaNode* Find(std::string_view pointer) const;

 private:
  JsonSchema() = default;
  friend class SchemaCompiler;

  std::string id_;
  boost::json::value document_;
  std::vector<std::unique_ptr<SchemaNode>> nodes_;  // nodes_[0] is the root
  std::vector<std::pair<std::string, const SchemaNode*>> by_pointer_;
};

}  // namespace comity
