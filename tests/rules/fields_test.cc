// The field table (src/rules/fields.h) against spec/*.schema.json: every schema property is
// reachable from the rule language with the same type and the same enum values, and every
// field of the table comes from the schemas. The two cannot drift apart unnoticed.
#include "rules/fields.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace comity::rules {
namespace {

namespace json = boost::json;

json::value LoadSchema(const std::string& name) {
  std::ifstream in(std::string(COMITY_SOURCE_DIR) + "/spec/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  EXPECT_FALSE(ec) << name;
  return v;
}

// Arrays of objects in the request are iterated with these variables.
const std::map<std::string, std::string> kItemVars = {
    {"request.offences", "offence"},       {"request.measures", "measure"},
    {"request.persons", "person"},         {"measure.selectors", "selector"},
    {"request.attachments", "attachment"},
};

// Where the field table deliberately types a property more precisely than the schema, and
// why.
const std::map<std::string, Type> kRefinements = {
    // Free strings in the schema; the model keeps the known person statuses as a set, which is
    // what a rule compares with person.status (unknown strings can never match).
    {"requested.policy.protected_status_review", Type::Set(EnumId::kPersonStatus)},
    // An object keyed by offence category: as a whole, the set of categories criminal there.
    {"requested.criminalizes", Type::Set(EnumId::kOffenceCategory)},
};

class SchemaWalker {
 public:
  explicit SchemaWalker(const json::object& root) : defs_(Defs(root)) {}

  void Walk(const json::object& node, const std::string& prefix) {
    const json::object& n = Resolve(node);
    if (const json::value* props = n.if_contains("properties")) {
      for (const auto& [key, sub] : props->as_object()) {
        std::string path = prefix + "." + std::string(key);
        Check(path, Resolve(sub.as_object()));
      }
    }
  }

  const std::set<std::string>& visited() const { return visited_; }

 private:
  static const json::object* Defs(const json::object& root) {
    const json::value* d = root.if_contains("$defs");
    return d ? &d->as_object() : nullptr;
  }
  const json::object& Resolve(const json::object& node) const {
    if (const json::value* ref = node.if_contains("$ref")) {
      std::string r(ref->as_string());
      std::string name = r.substr(r.rfind('/') + 1);
      return defs_->at(name).as_object();
    }
    return node;
  }
  static bool IsStatePattern(const json::object& s) {
    const json::value* p = s.if_contains("pattern");
    return p && p->as_string() == "^[A-Z]{2}$";
  }
  static std::vector<std::string> EnumOf(const json::object& s) {
    std::vector<std::string> out;
    for (const json::value& v : s.at("enum").as_array()) out.emplace_back(v.as_string());
    return out;
  }
  static std::string Str(const json::object& s, const char* key) {
    const json::value* v = s.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : "";
  }

  void ExpectEnum(const std::string& path, EnumId id, const json::object& s) {
    std::vector<std::string> names;
    for (std::string_view n : EnumNames(id)) names.emplace_back(n);
    EXPECT_EQ(names, EnumOf(s)) << path << ": enum values differ from the schema";
  }

  void Check(const std::string& path, const json::object& s) {
    visited_.insert(path);
    const FieldDef* f = FindField(path);
    ASSERT_NE(f, nullptr) << "schema property " << path << " is not in the field table";
    if (auto it = kRefinements.find(path); it != kRefinements.end()) {
      EXPECT_EQ(f->type, it->second) << path;
      if (path == "requested.criminalizes") {
        // Its items are reached as requested.criminalizes[<category>].*
        visited_.insert(path + "[]");
        const FieldDef* item = FindField(path + "[]");
        ASSERT_NE(item, nullptr);
        EXPECT_EQ(item->key, EnumId::kOffenceCategory);
        Walk(s.at("additionalProperties").as_object(), path + "[]");
      }
      return;
    }
    std::string type = Str(s, "type");
    if (s.contains("const")) {
      EXPECT_EQ(f->type.kind, Kind::kString) << path;
    } else if (s.contains("enum")) {
      ASSERT_EQ(f->type.kind, Kind::kEnum) << path;
      ExpectEnum(path, f->type.en, s);
    } else if (type == "string") {
      std::string format = Str(s, "format");
      Kind want = format == "date"        ? Kind::kDate
                  : format == "date-time" ? Kind::kTimestamp
                  : IsStatePattern(s)     ? Kind::kState
                                          : Kind::kString;
      EXPECT_EQ(f->type.kind, want) << path << " is a " << TypeName(f->type);
    } else if (type == "integer" || type == "number") {
      EXPECT_EQ(f->type.kind, Kind::kNumber) << path;
    } else if (type == "boolean") {
      EXPECT_EQ(f->type.kind, Kind::kBool) << path;
    } else if (type == "object") {
      EXPECT_TRUE(f->type.kind == Kind::kObject || f->type.kind == Kind::kPeriod)
          << path << " is a " << TypeName(f->type);
      Walk(s, path);
    } else if (type == "array") {
      const json::object& items = Resolve(s.at("items").as_object());
      if (items.contains("enum")) {
        ASSERT_EQ(f->type.kind, Kind::kSet) << path;
        ExpectEnum(path, f->type.en, items);
      } else if (IsStatePattern(items)) {
        EXPECT_EQ(f->type.kind, Kind::kStateList) << path;
      } else if (Str(items, "type") == "string") {
        EXPECT_EQ(f->type.kind, Kind::kStringList) << path;
      } else {
        ASSERT_EQ(Str(items, "type"), "object") << path;
        EXPECT_EQ(f->type.kind, Kind::kList) << path;
        auto var = kItemVars.find(path);
        ASSERT_NE(var, kItemVars.end()) << path << ": no iteration variable for its items";
        Walk(items, var->second);
      }
    } else {
      ADD_FAILURE() << path << ": schema type '" << type << "' not handled";
    }
    if (f->root == Root::kRequest || f->root == Root::kVar) {
      EXPECT_FALSE(f->pointer.empty()) << path << " has no JSON Pointer";
    }
  }

  const json::object* defs_;
  std::set<std::string> visited_;
};

TEST(FieldTable, MatchesTheSchemas) {
  json::value request = LoadSchema("request.schema.json");
  json::value profile = LoadSchema("state-profile.schema.json");
  SchemaWalker req(request.as_object());
  req.Walk(request.as_object(), "request");
  SchemaWalker prof(profile.as_object());
  prof.Walk(profile.as_object(), "requested");
  std::set<std::string> visited = req.visited();
  visited.insert(prof.visited().begin(), prof.visited().end());
  EXPECT_GT(visited.size(), 80u);
  for (const FieldDef& f : Fields()) {
    std::string path(f.path);
    if (f.root == Root::kRequesting) {
      // requesting.* mirrors requested.* exactly.
      const FieldDef* twin = FindField("requested." + path.substr(strlen("requesting.")));
      ASSERT_NE(twin, nullptr) << path;
      EXPECT_EQ(twin->type, f.type) << path;
      continue;
    }
    EXPECT_TRUE(visited.count(path)) << "field " << path << " is not a schema property";
  }
}

TEST(FieldTable, PointersFollowTheSchemaPaths) {
  EXPECT_EQ(FindField("request.facts")->pointer, "/facts");
  EXPECT_EQ(FindField("offence.max_penalty_years")->pointer,
            "/offences/{offence}/max_penalty_years");
  EXPECT_EQ(FindField("selector.value")->pointer, "/measures/{measure}/selectors/{selector}/value");
  EXPECT_EQ(FindField("measure.period.from")->pointer, "/measures/{measure}/period/from");
  EXPECT_TRUE(FindField("requested.policy.suspended")->pointer.empty());
  EXPECT_EQ(FindField("no.such.field"), nullptr);
  EXPECT_EQ(SuggestField("request.purpos"), "request.purpose");
  EXPECT_EQ(SuggestField("something.completely.different"), "");
}

TEST(FieldTable, PathsAreUnique) {
  std::set<std::string_view> seen;
  for (const FieldDef& f : Fields()) EXPECT_TRUE(seen.insert(f.path).second) << f.path;
}

}  // namespace
}  // namespace comity::rules

namespace comity::rules {
namespace {

// docs/rules.md lists every field, so the reference cannot fall behind the table.
TEST(FieldTable, DocumentedInTheLanguageReference) {
  std::ifstream in(std::string(COMITY_SOURCE_DIR) + "/docs/rules.md");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  ASSERT_FALSE(doc.empty());
  for (const FieldDef& f : Fields()) {
    if (f.root == Root::kRequesting) continue;  // documented as mirroring requested.*
    std::string path(f.path);
    if (size_t b = path.find("[]"); b != std::string::npos) {
      path.replace(b, 2, "[<offence category>]");
    }
    EXPECT_NE(doc.find("`" + path + "`"), std::string::npos) << path << " is not in docs/rules.md";
  }
}

}  // namespace
}  // namespace comity::rules
