// metav1.Status as JSON, as the streaming endpoints send it: on the error channel of
// an exec or attach (k8s.io/client-go/tools/remotecommand decodes it there) and in the
// body of a refused upgrade.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace kubes::kubelet::streaming {

// {"metadata":{},"status":"Failure","message":…,"reason":…,"details":{…},"code":…}
// for a failed s, {"metadata":{},"status":"Success"} for OK. Keys in Go's order.
// with_type_meta adds kind and apiVersion, which an HTTP body carries and the error
// channel does not.
nlohmann::ordered_json StatusJson(const Status& s, bool with_type_meta = false);

}  // namespace kubes::kubelet::streaming
