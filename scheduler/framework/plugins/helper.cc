// Score helpers shared by plugins (upstream plugins/helper/normalize_score.go).
#include <algorithm>

#include "scheduler/framework/plugins/plugins.h"

namespace kubes::scheduler {

void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<int64_t>& scores) {
  int64_t max_count = 0;
  for (int64_t s : scores) max_count = std::max(max_count, s);
  if (max_count == 0) {
    if (reverse) {
      for (int64_t& s : scores) s = max_priority;
    }
    return;
  }
  for (int64_t& s : scores) {
    s = max_priority * s / max_count;
    if (reverse) s = max_priority - s;
  }
}

}  // namespace kubes::scheduler
