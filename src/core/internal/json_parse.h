// Internal to core: the JSON text parser behind ParseJson and the Parse* codecs.
//
// Boost.JSON's parser with our rules on top: at most kMaxJsonDepth levels of nesting, numbers
// must be finite doubles, object keys must be unique (Boost.JSON would silently keep the last),
// and errors become Status with line and column.
//
//   JsonParser p;
//   StatusOr<boost::json::value> v = p.Parse(text, storage);
//
// Reusing one JsonParser keeps its internal stacks warm (the Parse* codecs keep one per thread).
// Thread-compatible: one JsonParser must not be used by two threads at once.
#pragma once

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string_view>

#include "core/status.h"

namespace comity::core_internal {

class JsonParser {
 public:
  JsonParser();
  ~JsonParser();
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  // Parses one JSON document; the value's memory comes from `sp`. Does not check the size
  // limit (callers do, before reading). Errors:
  //   kInvalidArgument "malformed JSON at line L, column C: <reason>"
  //   kResourceExhausted "JSON nested deeper than N levels at line L, column C"
  StatusOr<boost::json::value> Parse(std::string_view text, boost::json::storage_ptr sp);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The double that `text` (a JSON number) denotes, correctly rounded; `approximate` (Boost.JSON's
// reading, which may be one unit in the last place off) when from_chars cannot read it.
double ExactDouble(double approximate, std::string_view text);

// 1-based line and column (in code points) of byte `offset` in `text`.
void LineAndColumn(std::string_view text, size_t offset, size_t* line, size_t* column);

}  // namespace comity::core_internal
