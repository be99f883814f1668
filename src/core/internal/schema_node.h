// Internal to core: the compiled form of a JSON Schema (see core/json_schema.h), shared with
// the streaming request reader (core/internal/request_reader.h), which walks the same tree.
//
// Thread-safe: nodes are immutable once compiled.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/internal/key_table.h"
#include "core/pattern.h"

namespace comity {

namespace core_internal {

enum TypeBit : uint8_t {
  kTNull = 1,
  kTBoolean = 2,
  kTObject = 4,
  kTArray = 8,
  kTNumber = 16,
  kTString = 32,
  kTInteger = 64,
};

enum class Format : uint8_t { kNone, kDate, kDateTime };
enum class Additional : uint8_t { kAllow, kForbid, kSchema };

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();
constexpr size_t kMaxProperties = 64;  // `seen` is a 64-bit mask

}  // namespace core_internal

struct SchemaNode {
  std::string location;  // JSON Pointer of this subschema in the schema document
  bool reject_all = false;
  const SchemaNode* ref = nullptr;
  bool only_ref = false;

  uint8_t types = 0;  // 0 when there is no "type" keyword
  std::string type_text;

  const boost::json::value* const_value = nullptr;
  const boost::json::array* enum_values = nullptr;
  bool enum_all_strings = false;
  core_internal::KeyTable enum_table;
  std::string enum_text;

  bool object_keywords = false;
  std::vector<std::string_view> prop_names;
  std::vector<const SchemaNode*> prop_nodes;
  core_internal::KeyTable prop_table;
  core_internal::Additional additional = core_internal::Additional::kAllow;
  const SchemaNode* additional_node = nullptr;
  std::vector<int> required_index;  // into prop_names, or -1
  std::vector<std::string_view> required_names;

  bool array_keywords = false;
  const SchemaNode* items = nullptr;
  size_t min_items = 0;
  size_t max_items = core_internal::kNoLimit;
  bool unique = false;

  bool string_keywords = false;
  size_t min_length = 0;
  size_t max_length = core_internal::kNoLimit;
  std::optional<Pattern> pattern;
  core_internal::Format format = core_internal::Format::kNone;

  const boost::json::value* minimum = nullptr;
  const boost::json::value* maximum = nullptr;

  const boost::json::value* default_value = nullptr;
};

// A scalar JSON value without a DOM (the streaming request reader validates these).
struct Scalar {
  enum class Kind : uint8_t { kNull, kBool, kInt64, kUint64, kDouble, kString };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string_view s;
};

// True when the scalar `v` is valid against `node`: exactly the leaf checks the validator makes
// (one implementation), without building an error.
bool ScalarAccepts(const SchemaNode& node, const Scalar& v);

}  // namespace comity
