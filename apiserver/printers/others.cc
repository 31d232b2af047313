// Columns of the remaining groups (batch, autoscaling, policy, networking, ...).
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {

void RegisterOtherPrinters() {}

}  // namespace kubes::apiserver
