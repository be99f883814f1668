// Helpers for the core tests: reading files, and editing JSON documents by JSON Pointer so that
// each table row states only what it changes in a valid document.
#pragma once

#include <boost/json.hpp>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace comity::testing_json {

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// One edit: set the value at `pointer` to the JSON text `json` (creating a missing last member
// or appending at index == size), or remove it when `json` is empty.
struct Edit {
  std::string pointer;
  std::string json;
};

inline std::vector<std::string> Tokens(std::string_view pointer) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < pointer.size()) {
    size_t j = pointer.find('/', i + 1);
    if (j == std::string_view::npos) j = pointer.size();
    std::string t;
    for (size_t k = i + 1; k < j; ++k) {
      if (pointer[k] == '~' && k + 1 < j) {
        t.push_back(pointer[k + 1] == '0' ? '~' : '/');
        ++k;
      } else {
        t.push_back(pointer[k]);
      }
    }
    out.push_back(t);
    i = j;
  }
  return out;
}

inline void Apply(boost::json::value* doc, const Edit& e) {
  std::vector<std::string> tokens = Tokens(e.pointer);
  boost::json::value* v = doc;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (v->is_object()) {
      v = &v->as_object()[tokens[i]];
    } else {
      v = &v->as_array().at(std::stoul(tokens[i]));
    }
  }
  const std::string& last = tokens.back();
  if (v->is_object()) {
    if (e.json.empty()) {
      v->as_object().erase(last);
    } else {
      v->as_object()[last] = boost::json::parse(e.json);
    }
  } else {
    auto& a = v->as_array();
    size_t idx = std::stoul(last);
    if (e.json.empty()) {
      a.erase(a.begin() + static_cast<long>(idx));
    } else if (idx == a.size()) {
      a.push_back(boost::json::parse(e.json));
    } else {
      a.at(idx) = boost::json::parse(e.json);
    }
  }
}

inline std::string Edited(std::string_view base, const std::vector<Edit>& edits) {
  boost::json::value doc = boost::json::parse(base);
  for (const auto& e : edits) Apply(&doc, e);
  return boost::json::serialize(doc);
}

}  // namespace comity::testing_json
