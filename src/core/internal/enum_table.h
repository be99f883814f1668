// Internal to core: a lookup table from wire name to enum value for each enum of core/enums.h,
// built once on first use (thread-safe static initialisation).
//
//   int i = EnumTable<Urgency>().Find("urgent");  // 1, or -1 if unknown
#pragma once

#include <string_view>
#include <vector>

#include "core/enums.h"
#include "core/internal/key_table.h"

namespace comity::core_internal {

template <typename E>
const KeyTable& EnumTable() {
  static const KeyTable table = [] {
    std::vector<std::string_view> names(EnumTraits<E>::kNames.begin(), EnumTraits<E>::kNames.end());
    return KeyTable(names);
  }();
  return table;
}

}  // namespace comity::core_internal
