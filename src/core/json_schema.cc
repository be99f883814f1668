#include "core/json_schema.h"

#include <algorithm>
#include <bit>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/internal/json_text.h"
#include "core/internal/key_table.h"
#include "core/internal/schema_node.h"
#include "core/pattern.h"
#include "core/time.h"

namespace comity {

namespace json = boost::json;
using core_internal::Additional;
using core_internal::DescribeValue;
using core_internal::Format;
using core_internal::KeyTable;
using core_internal::KindWithArticle;
using core_internal::kMaxProperties;
using core_internal::kNoLimit;
using core_internal::kTArray;
using core_internal::kTBoolean;
using core_internal::kTInteger;
using core_internal::kTNull;
using core_internal::kTNumber;
using core_internal::kTObject;
using core_internal::kTString;
using core_internal::QuoteForMessage;

// --- Paths and errors ----------------------------------------------------------------------

void AppendPointerToken(std::string* out, std::string_view token) {
  for (char c : token) {
    if (c == '~') {
      out->append("~0");
    } else if (c == '/') {
      out->append("~1");
    } else {
      out->push_back(c);
    }
  }
}

std::string JsonPointer(const JsonPath* path) {
  std::vector<const JsonPath*> chain;
  for (const JsonPath* p = path; p != nullptr; p = p->parent) chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    out.push_back('/');
    if ((*it)->is_index) {
      out.append(std::to_string((*it)->index));
    } else {
      AppendPointerToken(&out, (*it)->key);
    }
  }
  return out;
}

std::string SchemaError::ToString() const {
  if (pointer.empty()) return reason;
  return pointer + ": " + reason;
}

void ValidationErrors::Add(const JsonPath* path, std::string reason) {
  if (errors_.size() >= limit_) {
    more_ = true;
    return;
  }
  errors_.push_back({JsonPointer(path), std::move(reason)});
}

void ValidationErrors::Add(std::string pointer, std::string reason) {
  if (errors_.size() >= limit_) {
    more_ = true;
    return;
  }
  errors_.push_back({std::move(pointer), std::move(reason)});
}

Status ValidationErrors::ToStatus() const {
  if (empty()) return OkStatus();
  std::string msg;
  for (const auto& e : errors_) {
    if (!msg.empty()) msg += "; ";
    msg += e.ToString();
  }
  if (more_) msg += "; and more problems not shown";
  return InvalidArgumentError(std::move(msg), errors_.empty() ? "" : errors_.front().pointer);
}

// --- Compiled nodes ------------------------------------------------------------------------

namespace {

bool IsIntegral(double d) { return std::isfinite(d) && std::trunc(d) == d; }

using Kind = Scalar::Kind;

Scalar ToScalar(const json::value& v) {
  Scalar s;
  switch (v.kind()) {
    case json::kind::bool_:
      s.kind = Kind::kBool;
      s.b = v.get_bool();
      break;
    case json::kind::int64:
      s.kind = Kind::kInt64;
      s.i = v.get_int64();
      break;
    case json::kind::uint64:
      s.kind = Kind::kUint64;
      s.u = v.get_uint64();
      break;
    case json::kind::double_:
      s.kind = Kind::kDouble;
      s.d = v.get_double();
      break;
    case json::kind::string:
      s.kind = Kind::kString;
      s.s = v.get_string();
      break;
    default:  // null; containers are never made scalars
      break;
  }
  return s;
}

bool IsNumber(const Scalar& s) {
  return s.kind == Kind::kInt64 || s.kind == Kind::kUint64 || s.kind == Kind::kDouble;
}

uint8_t TypeBitsOf(const Scalar& s) {
  switch (s.kind) {
    case Kind::kNull:
      return kTNull;
    case Kind::kBool:
      return kTBoolean;
    case Kind::kInt64:
    case Kind::kUint64:
      return kTNumber | kTInteger;
    case Kind::kDouble:
      return IsIntegral(s.d) ? (kTNumber | kTInteger) : kTNumber;
    case Kind::kString:
      return kTString;
  }
  return 0;
}

uint8_t TypeBitsOf(const json::value& v) {
  if (v.is_array()) return kTArray;
  if (v.is_object()) return kTObject;
  return TypeBitsOf(ToScalar(v));
}

int CompareIntDouble(int64_t i, double d) {
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  double f = std::floor(d);
  auto fi = static_cast<int64_t>(f);
  if (i < fi) return -1;
  if (i > fi) return 1;
  return f == d ? 0 : -1;
}

int CompareUintDouble(uint64_t u, double d) {
  if (d < 0) return 1;
  if (d >= 18446744073709551616.0) return -1;
  double f = std::floor(d);
  auto fu = static_cast<uint64_t>(f);
  if (u < fu) return -1;
  if (u > fu) return 1;
  return f == d ? 0 : -1;
}

// -1, 0, 1 for a < b, a == b, a > b; exact across int64, uint64 and double. Both are numbers.
int CompareNumbers(const Scalar& a, const Scalar& b) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (x > y ? 1 : 0); };
  switch (a.kind) {
    case Kind::kInt64:
      switch (b.kind) {
        case Kind::kInt64:
          return sign(a.i, b.i);
        case Kind::kUint64:
          return a.i < 0 ? -1 : sign(static_cast<uint64_t>(a.i), b.u);
        default:
          return CompareIntDouble(a.i, b.d);
      }
    case Kind::kUint64:
      switch (b.kind) {
        case Kind::kInt64:
          return -CompareNumbers(b, a);
        case Kind::kUint64:
          return sign(a.u, b.u);
        default:
          return CompareUintDouble(a.u, b.d);
      }
    default:
      return b.kind == Kind::kDouble ? sign(a.d, b.d) : -CompareNumbers(b, a);
  }
}

// JSON Schema equality of a scalar with any value.
bool ScalarEquals(const Scalar& a, const json::value& bv) {
  if (bv.is_array() || bv.is_object()) return false;
  Scalar b = ToScalar(bv);
  if (IsNumber(a) && IsNumber(b)) return CompareNumbers(a, b) == 0;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.b == b.b;
    case Kind::kString:
      return a.s == b.s;
    default:
      return false;
  }
}

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

// JSON Schema equality: numbers by value (1 == 1.0), objects regardless of member order.
bool JsonEqual(const json::value& a, const json::value& b) {
  if (!a.is_array() && !a.is_object()) return ScalarEquals(ToScalar(a), b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        auto it = y.find(kv.key());
        if (it == y.end() || !JsonEqual(kv.value(), it->value())) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

uint64_t HashMix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h;
}

// Consistent with JsonEqual: equal values hash equally.
uint64_t JsonHash(const json::value& v) {
  auto number = [](double d) {
    if (d == 0) d = 0;  // -0 == 0
    return HashMix(3, std::bit_cast<uint64_t>(d));
  };
  switch (v.kind()) {
    case json::kind::null:
      return 1;
    case json::kind::bool_:
      return v.get_bool() ? 2 : 4;
    case json::kind::int64: {
      int64_t i = v.get_int64();
      auto d = static_cast<double>(i);
      if (d < 9223372036854775808.0 && static_cast<int64_t>(d) == i) return number(d);
      return HashMix(5, static_cast<uint64_t>(i));
    }
    case json::kind::uint64: {
      uint64_t u = v.get_uint64();
      auto d = static_cast<double>(u);
      if (d < 18446744073709551616.0 && static_cast<uint64_t>(d) == u) return number(d);
      return HashMix(5, u);
    }
    case json::kind::double_:
      return number(v.get_double());
    case json::kind::string:
      return HashMix(6, std::hash<std::string_view>()(v.get_string()));
    case json::kind::array: {
      uint64_t h = 7;
      for (const auto& x : v.get_array()) h = HashMix(h, JsonHash(x));
      return h;
    }
    case json::kind::object: {
      uint64_t sum = 0;  // order-independent
      for (const auto& kv : v.get_object()) {
        sum += HashMix(std::hash<std::string_view>()(kv.key()), JsonHash(kv.value()));
      }
      return HashMix(8, sum);
    }
  }
  return 0;
}

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

// --- Compiler ------------------------------------------------------------------------------

class SchemaCompiler {
 public:
  explicit SchemaCompiler(JsonSchema* s) : s_(s) {}

  Status Run() {
    const json::value& doc = s_->document_;
    if (doc.is_object()) {
      if (auto it = doc.get_object().find("$id"); it != doc.get_object().end()) {
        if (!it->value().is_string()) return Error("", "$id must be a string");
        s_->id_ = std::string(it->value().get_string());
      }
    }
    const SchemaNode* root = nullptr;
    RETURN_IF_ERROR(NodeAt(doc, "", &root));
    // Resolve $refs whose targets were not reached from the root (none today, but cheap).
    while (!pending_refs_.empty()) {
      auto [node, target] = pending_refs_.back();
      pending_refs_.pop_back();
      const SchemaNode* t = nullptr;
      RETURN_IF_ERROR(Resolve(target, node->location, &t));
      node->ref = t;
    }
    // Every `default` must be valid against its own subschema.
    for (const auto& n : s_->nodes_) {
      if (n->default_value == nullptr) continue;
      ValidationErrors errs;
      if (!s_->Validate(*n->default_value, nullptr, &errs, n.get())) {
        return Error(n->location, "default is not valid: " + errs.ToStatus().message());
      }
    }
    for (const auto& n : s_->nodes_) s_->by_pointer_.emplace_back(n->location, n.get());
    return OkStatus();
  }

 private:
  Status Error(std::string_view location, std::string_view what) {
    std::string where = s_->id_.empty() ? "schema" : s_->id_;
    where += "#";
    where += location;
    return InvalidArgumentError(where + ": " + std::string(what));
  }

  Status NodeAt(const json::value& schema, const std::string& location, const SchemaNode** out) {
    if (auto it = compiled_.find(location); it != compiled_.end()) {
      *out = it->second;
      return OkStatus();
    }
    s_->nodes_.push_back(std::make_unique<SchemaNode>());
    SchemaNode* n = s_->nodes_.back().get();
    n->location = location;
    compiled_[location] = n;
    *out = n;
    return Fill(n, schema);
  }

  static std::string Join(const std::string& location, std::string_view token) {
    std::string out = location;
    out.push_back('/');
    AppendPointerToken(&out, token);
    return out;
  }

  // Finds the subschema at a JSON Pointer in the document.
  const json::value* At(std::string_view pointer) const {
    const json::value* v = &s_->document_;
    size_t i = 0;
    while (i < pointer.size()) {
      if (pointer[i] != '/') return nullptr;
      size_t j = pointer.find('/', i + 1);
      if (j == std::string_view::npos) j = pointer.size();
      std::string token;
      for (size_t k = i + 1; k < j; ++k) {
        if (pointer[k] == '~' && k + 1 < j && pointer[k + 1] == '0') {
          token.push_back('~');
          ++k;
        } else if (pointer[k] == '~' && k + 1 < j && pointer[k + 1] == '1') {
          token.push_back('/');
          ++k;
        } else {
          token.push_back(pointer[k]);
        }
      }
      if (v->is_object()) {
        auto it = v->get_object().find(token);
        if (it == v->get_object().end()) return nullptr;
        v = &it->value();
      } else if (v->is_array()) {
        char* end = nullptr;
        unsigned long idx = std::strtoul(token.c_str(), &end, 10);
        if (token.empty() || *end != '\0' || idx >= v->get_array().size()) return nullptr;
        v = &v->get_array()[idx];
      } else {
        return nullptr;
      }
      i = j;
    }
    return v;
  }

  Status Resolve(const std::string& ref, const std::string& from, const SchemaNode** out) {
    if (ref.empty() || ref[0] != '#') {
      return Error(from, "$ref \"" + ref + "\" is not supported (only \"#\" and \"#/...\")");
    }
    std::string pointer = ref.substr(1);
    if (pointer.find('%') != std::string::npos) {
      return Error(from, "$ref \"" + ref + "\" uses percent-encoding, which is not supported");
    }
    const json::value* target = At(pointer);
    if (target == nullptr) return Error(from, "$ref \"" + ref + "\" does not resolve");
    return NodeAt(*target, pointer, out);
  }

  Status Size(const json::value& v, const std::string& loc, std::string_view kw, size_t* out) {
    if (v.is_int64() && v.get_int64() >= 0) {
      *out = static_cast<size_t>(v.get_int64());
      return OkStatus();
    }
    if (v.is_uint64()) {
      *out = static_cast<size_t>(v.get_uint64());
      return OkStatus();
    }
    if (v.is_double() && v.get_double() >= 0 && IsIntegral(v.get_double()) &&
        v.get_double() < 1e18) {
      *out = static_cast<size_t>(v.get_double());
      return OkStatus();
    }
    return Error(loc, std::string(kw) + " must be a non-negative integer");
  }

  Status Fill(SchemaNode* n, const json::value& schema) {
    const std::string& loc = n->location;
    if (schema.is_bool()) {
      n->reject_all = !schema.get_bool();
      return OkStatus();
    }
    if (!schema.is_object()) return Error(loc, "a schema must be an object or a boolean");
    const json::object& o = schema.get_object();
    size_t keywords = 0;
    bool has_ref = false;
    for (const auto& kv : o) {
      std::string_view k = kv.key();
      const json::value& v = kv.value();
      const std::string kloc = Join(loc, k);
      if (k != "$schema" && k != "$id" && k != "$comment" && k != "title" && k != "description" &&
          k != "default" && k != "examples" && k != "$defs") {
        ++keywords;
      }
      if (k == "$schema" || k == "$id" || k == "$comment" || k == "title" || k == "description") {
        if (!v.is_string()) return Error(kloc, std::string(k) + " must be a string");
      } else if (k == "examples") {
        if (!v.is_array()) return Error(kloc, "examples must be an array");
      } else if (k == "default") {
        n->default_value = &v;
      } else if (k == "$defs") {
        if (!v.is_object()) return Error(kloc, "$defs must be an object");
        for (const auto& d : v.get_object()) {
          const SchemaNode* ignored = nullptr;
          RETURN_IF_ERROR(NodeAt(d.value(), Join(kloc, d.key()), &ignored));
        }
      } else if (k == "$ref") {
        if (!v.is_string()) return Error(kloc, "$ref must be a string");
        pending_refs_.emplace_back(n, std::string(v.get_string()));
        has_ref = true;
      } else if (k == "type") {
        RETURN_IF_ERROR(FillType(n, v, kloc));
      } else if (k == "enum") {
        if (!v.is_array() || v.get_array().empty()) {
          return Error(kloc, "enum must be a non-empty array");
        }
        n->enum_values = &v.get_array();
        n->enum_all_strings = std::all_of(v.get_array().begin(), v.get_array().end(),
                                          [](const json::value& x) { return x.is_string(); });
        std::vector<std::string_view> names;
        for (const auto& x : v.get_array()) {
          if (!n->enum_text.empty()) n->enum_text += ", ";
          if (x.is_string()) {
            n->enum_text += x.get_string();
            names.push_back(x.get_string());
          } else {
            n->enum_text += json::serialize(x);
          }
        }
        if (n->enum_all_strings) n->enum_table.Build(names);
      } else if (k == "const") {
        n->const_value = &v;
      } else if (k == "properties") {
        if (!v.is_object()) return Error(kloc, "properties must be an object");
        if (v.get_object().size() > kMaxProperties) {
          return Error(kloc, "more than " + std::to_string(kMaxProperties) +
                                 " properties are not supported");
        }
        n->object_keywords = true;
        for (const auto& p : v.get_object()) {
          const SchemaNode* child = nullptr;
          RETURN_IF_ERROR(NodeAt(p.value(), Join(kloc, p.key()), &child));
          n->prop_names.push_back(p.key());
          n->prop_nodes.push_back(child);
        }
        n->prop_table.Build(n->prop_names);
      } else if (k == "required") {
        if (!v.is_array()) return Error(kloc, "required must be an array of strings");
        n->object_keywords = true;
        for (const auto& r : v.get_array()) {
          if (!r.is_string()) return Error(kloc, "required must be an array of strings");
          n->required_names.push_back(r.get_string());
        }
      } else if (k == "additionalProperties") {
        n->object_keywords = true;
        if (v.is_bool()) {
          n->additional = v.get_bool() ? Additional::kAllow : Additional::kForbid;
        } else {
          n->additional = Additional::kSchema;
          RETURN_IF_ERROR(NodeAt(v, kloc, &n->additional_node));
        }
      } else if (k == "items") {
        if (v.is_array()) return Error(kloc, "items must be a schema (use prefixItems for tuples)");
        n->array_keywords = true;
        RETURN_IF_ERROR(NodeAt(v, kloc, &n->items));
      } else if (k == "minItems") {
        n->array_keywords = true;
        RETURN_IF_ERROR(Size(v, kloc, k, &n->min_items));
      } else if (k == "maxItems") {
        n->array_keywords = true;
        RETURN_IF_ERROR(Size(v, kloc, k, &n->max_items));
      } else if (k == "uniqueItems") {
        if (!v.is_bool()) return Error(kloc, "uniqueItems must be a boolean");
        n->array_keywords = true;
        n->unique = v.get_bool();
      } else if (k == "minLength") {
        n->string_keywords = true;
        RETURN_IF_ERROR(Size(v, kloc, k, &n->min_length));
      } else if (k == "maxLength") {
        n->string_keywords = true;
        RETURN_IF_ERROR(Size(v, kloc, k, &n->max_length));
      } else if (k == "pattern") {
        if (!v.is_string()) return Error(kloc, "pattern must be a string");
        n->string_keywords = true;
        auto p = Pattern::Compile(v.get_string());
        if (!p.ok()) return Error(kloc, p.status().message());
        n->pattern.emplace(std::move(p).value());
      } else if (k == "format") {
        if (!v.is_string()) return Error(kloc, "format must be a string");
        n->string_keywords = true;
        if (v.get_string() == "date") {
          n->format = Format::kDate;
        } else if (v.get_string() == "date-time") {
          n->format = Format::kDateTime;
        } else {
          return Error(kloc, "format \"" + std::string(v.get_string()) +
                                 "\" is not supported (only date and date-time)");
        }
      } else if (k == "minimum" || k == "maximum") {
        if (!IsNumber(v)) return Error(kloc, std::string(k) + " must be a number");
        (k == "minimum" ? n->minimum : n->maximum) = &v;
      } else {
        return Error(loc, "keyword \"" + std::string(k) + "\" is not supported");
      }
    }
    for (std::string_view r : n->required_names) n->required_index.push_back(n->prop_table.Find(r));
    n->only_ref = has_ref && keywords == 1;
    return OkStatus();
  }

  Status FillType(SchemaNode* n, const json::value& v, const std::string& kloc) {
    std::vector<std::string_view> names;
    if (v.is_string()) {
      names.push_back(v.get_string());
    } else if (v.is_array() && !v.get_array().empty()) {
      for (const auto& t : v.get_array()) {
        if (!t.is_string()) return Error(kloc, "type must be a string or an array of strings");
        names.push_back(t.get_string());
      }
    } else {
      return Error(kloc, "type must be a string or an array of strings");
    }
    std::vector<std::string> words;
    for (std::string_view t : names) {
      if (t == "null") {
        n->types |= kTNull;
        words.emplace_back("null");
      } else if (t == "boolean") {
        n->types |= kTBoolean;
        words.emplace_back("a boolean");
      } else if (t == "object") {
        n->types |= kTObject;
        words.emplace_back("an object");
      } else if (t == "array") {
        n->types |= kTArray;
        words.emplace_back("an array");
      } else if (t == "number") {
        n->types |= kTNumber;
        words.emplace_back("a number");
      } else if (t == "string") {
        n->types |= kTString;
        words.emplace_back("a string");
      } else if (t == "integer") {
        n->types |= kTInteger;
        words.emplace_back("an integer");
      } else {
        return Error(kloc, "unknown type \"" + std::string(t) + "\"");
      }
    }
    for (size_t i = 0; i < words.size(); ++i) {
      if (i > 0) n->type_text += i + 1 == words.size() ? " or " : ", ";
      n->type_text += words[i];
    }
    return OkStatus();
  }

  JsonSchema* s_;
  std::unordered_map<std::string, const SchemaNode*> compiled_;
  std::vector<std::pair<SchemaNode*, std::string>> pending_refs_;
};

// --- Validation ----------------------------------------------------------------------------

namespace {

// The leaf keywords that a scalar fails, as bits, in the order they are reported. A type, const
// or enum failure is reported alone; the string and number keywords can fail together.
enum LeafProblem : uint32_t {
  kPType = 1,
  kPConst = 2,
  kPEnum = 4,
  kPMinLength = 8,
  kPMaxLength = 16,
  kPPattern = 32,
  kPFormat = 64,
  kPMinimum = 128,
  kPMaximum = 256,
};

bool InEnum(const SchemaNode& n, const Scalar& v) {
  if (n.enum_all_strings) return v.kind == Kind::kString && n.enum_table.Find(v.s) >= 0;
  for (const auto& e : *n.enum_values) {
    if (ScalarEquals(v, e)) return true;
  }
  return false;
}

// `code_points` (if not null) receives the string's length when a length keyword failed.
uint32_t LeafProblems(const SchemaNode& n, const Scalar& v, size_t* code_points) {
  if (n.types != 0 && (n.types & TypeBitsOf(v)) == 0) return kPType;
  if (n.const_value != nullptr && !ScalarEquals(v, *n.const_value)) return kPConst;
  if (n.enum_values != nullptr && !InEnum(n, v)) return kPEnum;
  uint32_t problems = 0;
  if (v.kind == Kind::kString && n.string_keywords) {
    if (n.min_length > 0 || n.max_length != kNoLimit) {
      // Code points are between bytes/4 and bytes: count only when that cannot decide.
      const size_t bytes = v.s.size();
      if (bytes > n.max_length || (bytes + 3) / 4 < n.min_length) {
        size_t cps = core_internal::CountCodePoints(v.s);
        if (code_points != nullptr) *code_points = cps;
        if (cps < n.min_length) problems |= kPMinLength;
        if (cps > n.max_length) problems |= kPMaxLength;
      }
    }
    if (n.pattern.has_value() && !n.pattern->Matches(v.s)) problems |= kPPattern;
    if (n.format == Format::kDate) {
      Date d;
      if (!ParseDateTo(v.s, &d, nullptr)) problems |= kPFormat;
    } else if (n.format == Format::kDateTime) {
      Timestamp t;
      if (!ParseTimestampTo(v.s, &t, nullptr)) problems |= kPFormat;
    }
  } else if (IsNumber(v)) {
    if (n.minimum != nullptr && CompareNumbers(v, ToScalar(*n.minimum)) < 0) {
      problems |= kPMinimum;
    }
    if (n.maximum != nullptr && CompareNumbers(v, ToScalar(*n.maximum)) > 0) {
      problems |= kPMaximum;
    }
  }
  return problems;
}

std::string ConstProblem(const json::value& c, const json::value& v) {
  if (c.is_object() || c.is_array()) {
    std::string text = json::serialize(c);
    if (text.size() > 2 * core_internal::kEchoCodePoints) text = "the constant of the schema";
    bool same_kind = c.kind() == v.kind();
    return "expected " + text + ", got " +
           (same_kind ? (c.is_object() ? "a different object" : "a different array")
                      : DescribeValue(v));
  }
  return "expected " + DescribeValue(c) + ", got " + DescribeValue(v);
}

class Validator {
 public:
  explicit Validator(ValidationErrors* errors) : errors_(errors) {}

  void Check(const SchemaNode& n, const json::value& v, const JsonPath* path) {
    if (errors_->full()) return;
    if (n.reject_all) {
      errors_->Add(path, "no value is allowed here");
      return;
    }
    if (n.ref != nullptr) {
      Check(*n.ref, v, path);
      if (n.only_ref) return;
    }
    if (!v.is_object() && !v.is_array()) {
      CheckLeaf(n, v, path);
      return;
    }
    if (n.types != 0 && (n.types & TypeBitsOf(v)) == 0) {
      errors_->Add(path, "expected " + n.type_text + ", got " + std::string(KindWithArticle(v)));
      return;
    }
    if (n.const_value != nullptr && !JsonEqual(v, *n.const_value)) {
      errors_->Add(path, ConstProblem(*n.const_value, v));
      return;
    }
    if (n.enum_values != nullptr &&
        std::none_of(n.enum_values->begin(), n.enum_values->end(),
                     [&](const json::value& e) { return JsonEqual(v, e); })) {
      errors_->Add(path, "expected one of " + n.enum_text + ", got " + DescribeValue(v));
      return;
    }
    if (v.is_object()) {
      if (n.object_keywords) CheckObject(n, v.get_object(), path);
    } else if (n.array_keywords) {
      CheckArray(n, v.get_array(), path);
    }
  }

 private:
  void CheckObject(const SchemaNode& n, const json::object& o, const JsonPath* path) {
    uint64_t seen = 0;
    for (const auto& kv : o) {
      std::string_view key = kv.key();
      int i = n.prop_table.Find(key);
      JsonPath child{path, key, 0, false};
      if (i >= 0) {
        seen |= uint64_t{1} << i;
        Check(*n.prop_nodes[static_cast<size_t>(i)], kv.value(), &child);
      } else if (n.additional == Additional::kForbid) {
        errors_->Add(path, "unknown property " + QuoteForMessage(key));
      } else if (n.additional == Additional::kSchema) {
        Check(*n.additional_node, kv.value(), &child);
      }
      if (errors_->full()) return;
    }
    for (size_t r = 0; r < n.required_names.size(); ++r) {
      int i = n.required_index[r];
      bool present = i >= 0 ? (seen >> i) & 1 : o.contains(n.required_names[r]);
      if (!present) {
        errors_->Add(path, "missing required property " + QuoteForMessage(n.required_names[r]));
      }
    }
  }

  void CheckArray(const SchemaNode& n, const json::array& a, const JsonPath* path) {
    if (a.size() < n.min_items) {
      errors_->Add(path, "expected at least " + Plural(n.min_items, "item", "items") + ", got " +
                             std::to_string(a.size()));
    }
    if (a.size() > n.max_items) {
      errors_->Add(path, "expected at most " + Plural(n.max_items, "item", "items") + ", got " +
                             std::to_string(a.size()));
    }
    if (n.items != nullptr) {
      for (size_t i = 0; i < a.size(); ++i) {
        JsonPath child{path, {}, i, true};
        Check(*n.items, a[i], &child);
        if (errors_->full()) return;
      }
    }
    if (n.unique) CheckUnique(a, path);
  }

  void Duplicate(const json::array& a, size_t dup, size_t first, const JsonPath* path) {
    JsonPath child{path, {}, dup, true};
    errors_->Add(&child, DescribeValue(a[dup]) + " repeats item " + std::to_string(first) +
                             "; items must be unique");
  }

  void CheckUnique(const json::array& a, const JsonPath* path) {
    constexpr size_t kPairwise = 16;
    if (a.size() <= kPairwise) {
      for (size_t i = 1; i < a.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (JsonEqual(a[i], a[j])) {
            Duplicate(a, i, j, path);
            break;
          }
        }
      }
      return;
    }
    // Large arrays: sort by hash so that the work stays O(n log n) whatever the input.
    std::vector<std::pair<uint64_t, size_t>> h;
    h.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) h.emplace_back(JsonHash(a[i]), i);
    std::sort(h.begin(), h.end());
    std::vector<std::pair<size_t, size_t>> dups;  // (duplicate, first)
    for (size_t g = 0; g < h.size();) {
      size_t e = g + 1;
      while (e < h.size() && h[e].first == h[g].first) ++e;
      for (size_t i = g + 1; i < e; ++i) {
        for (size_t j = g; j < i; ++j) {
          if (JsonEqual(a[h[i].second], a[h[j].second])) {
            dups.emplace_back(h[i].second, h[j].second);
            break;
          }
        }
        if (dups.size() > kMaxReportedErrors) break;
      }
      g = e;
    }
    std::sort(dups.begin(), dups.end());
    for (auto [d, f] : dups) Duplicate(a, d, f, path);
  }

  void CheckLeaf(const SchemaNode& n, const json::value& v, const JsonPath* path) {
    size_t cps = 0;
    const uint32_t p = LeafProblems(n, ToScalar(v), &cps);
    if (p == 0) return;
    if (p & kPType) {
      bool fractional = v.is_double() && (n.types & kTInteger);
      errors_->Add(path, "expected " + n.type_text + ", got " +
                             (fractional ? DescribeValue(v) : std::string(KindWithArticle(v))));
    }
    if (p & kPConst) errors_->Add(path, ConstProblem(*n.const_value, v));
    if (p & kPEnum) {
      errors_->Add(path, DescribeValue(v) + " is not one of " + n.enum_text);
    }
    if (p & kPMinLength) {
      errors_->Add(path, "expected at least " + Plural(n.min_length, "character", "characters") +
                             ", got " + std::to_string(cps));
    }
    if (p & kPMaxLength) {
      errors_->Add(path, "expected at most " + Plural(n.max_length, "character", "characters") +
                             ", got " + std::to_string(cps));
    }
    if (p & kPPattern) {
      errors_->Add(path, DescribeValue(v) + " does not match the pattern " + n.pattern->source());
    }
    if (p & kPFormat) {
      std::string reason;
      if (n.format == Format::kDate) {
        Date d;
        ParseDateTo(v.get_string(), &d, &reason);
        errors_->Add(path, DescribeValue(v) + " is not a valid date (" + reason + ")");
      } else {
        Timestamp t;
        ParseTimestampTo(v.get_string(), &t, &reason);
        errors_->Add(path, DescribeValue(v) + " is not a valid date-time (" + reason + ")");
      }
    }
    if (p & kPMinimum) {
      errors_->Add(path,
                   DescribeValue(v) + " is less than the minimum " + DescribeValue(*n.minimum));
    }
    if (p & kPMaximum) {
      errors_->Add(path,
                   DescribeValue(v) + " is greater than the maximum " + DescribeValue(*n.maximum));
    }
  }

  ValidationErrors* errors_;
};

}  // namespace

bool ScalarAccepts(const SchemaNode& node, const Scalar& v) {
  if (node.reject_all) return false;
  if (node.ref != nullptr) {
    if (!ScalarAccepts(*node.ref, v)) return false;
    if (node.only_ref) return true;
  }
  return LeafProblems(node, v, nullptr) == 0;
}

// --- JsonSchema ----------------------------------------------------------------------------

JsonSchema::~JsonSchema() = default;

StatusOr<std::unique_ptr<JsonSchema>> JsonSchema::Compile(const json::value& document) {
  std::unique_ptr<JsonSchema> s(new JsonSchema());
  s->document_ = document;
  SchemaCompiler c(s.get());
  RETURN_IF_ERROR(c.Run());
  return s;
}

bool JsonSchema::Validate(const json::value& instance, const JsonPath* path,
                          ValidationErrors* errors, const SchemaNode* node) const {
  const size_t before = errors->errors().size();
  const bool more_before = errors->more();
  Validator v(errors);
  v.Check(node != nullptr ? *node : *nodes_.front(), instance, path);
  return errors->errors().size() == before && errors->more() == more_before;
}

Status JsonSchema::Check(const json::value& instance) const {
  ValidationErrors errors;
  Validator v(&errors);
  v.Check(*nodes_.front(), instance, nullptr);
  return errors.ToStatus();
}

const SchemaNode* JsonSchema::Find(std::string_view pointer) const {
  for (const auto& [loc, node] : by_pointer_) {
    if (loc == pointer) return node;
  }
  return nullptr;
}

}  // namespace comity
