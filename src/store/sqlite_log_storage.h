// The names the log's storage had when SQLite was its only backend; the implementation, over
// either backend, is in log_storage.h.
#pragma once

#include "store/log_storage.h"

namespace comity::store {

using SqliteLogStorage = SqlLogStorage;
using SqliteWitnessStore = SqlWitnessStore;

}  // namespace comity::store
