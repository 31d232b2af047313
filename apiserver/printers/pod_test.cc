// The pod READY / STATUS / RESTARTS cells, for the cases upstream's TestPrintPod covers.
#include <gtest/gtest.h>

#include "apiserver/printers/printers_test.h"

namespace kubes::apiserver {
namespace {

using testing::Now;
using testing::Row;

struct PodCase {
  const char* name;
  const char* pod;  // JSON
  const char* ready;
  const char* status;
  const char* restarts;
};

// Now() is 2024-06-01T12:00:00Z.
const PodCase kPodCases[] = {
    {"Pending", R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Pending"}})", "0/1", "Pending", "0"},
    {"Running",
     R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],
        "containerStatuses":[{"name":"app","ready":true,"restartCount":0,"state":{"running":{}}}]}})",
     "1/1", "Running", "0"},
    {"Completed",
     R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Succeeded",
        "containerStatuses":[{"name":"app","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
     "0/1", "Completed", "0"},
    {"CrashLoopBackOff with restarts 5m ago",
     R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running",
        "containerStatuses":[{"name":"app","ready":false,"restartCount":3,
          "state":{"waiting":{"reason":"CrashLoopBackOff"}},
          "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-06-01T11:55:00Z"}}}]}})",
     "0/1", "CrashLoopBackOff", "3 (5m ago)"},
    {"ExitCode without a reason",
     R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Failed",
        "containerStatuses":[{"name":"app","state":{"terminated":{"exitCode":2}}}]}})",
     "0/1", "ExitCode:2", "0"},
    {"Init:0/2 while the first init container runs",
     R"({"spec":{"initContainers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","initContainerStatuses":[
          {"name":"a","state":{"running":{}}},{"name":"b","state":{"waiting":{"reason":"PodInitializing"}}}],
        "containerStatuses":[{"name":"app","state":{"waiting":{"reason":"PodInitializing"}}}]}})",
     "0/1", "Init:0/2", "0"},
    {"Init:1/2 after the first init container",
     R"({"spec":{"initContainers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","initContainerStatuses":[
          {"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},{"name":"b","state":{"running":{}}}]}})",
     "0/1", "Init:1/2", "0"},
    {"Init:Error",
     R"({"spec":{"initContainers":[{"name":"a"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","initContainerStatuses":[
          {"name":"a","restartCount":1,"state":{"terminated":{"exitCode":1,"reason":"Error"}},
           "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-06-01T11:59:00Z"}}}]}})",
     "0/1", "Init:Error", "1 (60s ago)"},
    {"Init:CrashLoopBackOff",
     R"({"spec":{"initContainers":[{"name":"a"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","initContainerStatuses":[
          {"name":"a","restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})",
     "0/1", "Init:CrashLoopBackOff", "4"},
    {"Init:ExitCode without a reason",
     R"({"spec":{"initContainers":[{"name":"a"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","initContainerStatuses":[{"name":"a","state":{"terminated":{"exitCode":3}}}]}})",
     "0/1", "Init:ExitCode:3", "0"},
    {"PodInitializing once init containers are done",
     R"({"spec":{"initContainers":[{"name":"a"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","conditions":[{"type":"Initialized","status":"True"}],
        "initContainerStatuses":[{"name":"a","restartCount":2,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}],
        "containerStatuses":[{"name":"app","state":{"waiting":{"reason":"PodInitializing"}}}]}})",
     "0/1", "PodInitializing", "0"},
    {"Terminating",
     R"({"metadata":{"deletionTimestamp":"2024-06-01T11:59:30Z"},"spec":{"containers":[{"name":"app"}]},
        "status":{"phase":"Running","containerStatuses":[{"name":"app","ready":true,"state":{"running":{}}}]}})",
     "1/1", "Terminating", "0"},
    {"a deleted pod that finished keeps its status",
     R"({"metadata":{"deletionTimestamp":"2024-06-01T11:59:30Z"},"spec":{"containers":[{"name":"app"}]},
        "status":{"phase":"Succeeded","containerStatuses":[{"name":"app","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
     "0/1", "Completed", "0"},
    {"NodeLost reads Unknown",
     R"({"metadata":{"deletionTimestamp":"2024-06-01T11:59:30Z"},"spec":{"containers":[{"name":"app"}]},
        "status":{"phase":"Running","reason":"NodeLost"}})",
     "0/1", "Unknown", "0"},
    {"SchedulingGated",
     R"({"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Pending",
        "conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})",
     "0/1", "SchedulingGated", "0"},
    {"a sidecar counts in READY, its restarts in RESTARTS",
     R"({"spec":{"initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"}],
        "initContainerStatuses":[{"name":"proxy","started":true,"ready":true,"restartCount":1,"state":{"running":{}},
          "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-06-01T11:50:00Z"}}}],
        "containerStatuses":[{"name":"app","ready":true,"restartCount":1,"state":{"running":{}},
          "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-06-01T11:57:00Z"}}}]}})",
     "2/2", "Running", "2 (3m ago)"},
    {"a sidecar not yet started holds up initialisation",
     R"({"spec":{"initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"app"}]},
        "status":{"phase":"Pending","initContainerStatuses":[{"name":"proxy","started":false,"state":{"running":{}}}]}})",
     "0/2", "Init:0/1", "0"},
    {"Completed with a container still running and Ready",
     R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]},"status":{"phase":"Running",
        "conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[
          {"name":"a","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
          {"name":"b","ready":true,"state":{"running":{}}}]}})",
     "1/2", "Running", "0"},
    {"Completed with a container still running, not Ready",
     R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]},"status":{"phase":"Running","containerStatuses":[
          {"name":"a","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
          {"name":"b","ready":true,"state":{"running":{}}}]}})",
     "1/2", "NotReady", "0"},
};

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const PodCase& c, std::ostream* os) { *os << c.name; }

class PodStatusTest : public ::testing::TestWithParam<PodCase> {};

TEST_P(PodStatusTest, ReadyStatusRestarts) {
  const PodCase& c = GetParam();
  Json pod = Json::parse(c.pod);
  pod["metadata"]["name"] = "web";
  pod["metadata"]["creationTimestamp"] = "2024-06-01T11:00:00Z";
  Json row = Row("", "Pod", pod);
  ASSERT_EQ(row.size(), 9u);
  EXPECT_EQ(row[0], "web");
  EXPECT_EQ(row[1], c.ready);
  EXPECT_EQ(row[2], c.status);
  EXPECT_EQ(row[3], c.restarts);
  EXPECT_EQ(row[4], "60m");
}

INSTANTIATE_TEST_SUITE_P(Upstream, PodStatusTest, ::testing::ValuesIn(kPodCases),
                         [](const ::testing::TestParamInfo<PodCase>& info) { return "case" + std::to_string(info.index); });

TEST(PodPrinter, WideColumns) {
  Json pod = R"({"metadata":{"name":"web","creationTimestamp":"2024-06-01T11:58:00Z"},
    "spec":{"nodeName":"node-1","containers":[{"name":"app"}],
            "readinessGates":[{"conditionType":"example.com/a"},{"conditionType":"example.com/b"}]},
    "status":{"phase":"Running","podIP":"10.0.0.9","podIPs":[{"ip":"10.0.0.9"},{"ip":"fd00::9"}],
              "conditions":[{"type":"example.com/a","status":"True"},{"type":"example.com/b","status":"False"}]}})"_json;
  Json row = Row("", "Pod", pod);
  EXPECT_EQ(row, Json::array({"web", "0/1", "Running", "0", "2m", "10.0.0.9", "node-1", "<none>", "1/2"}));

  const TablePrinter* p = FindPrinter("", "Pod");
  ASSERT_NE(p, nullptr);
  std::vector<std::string> names;
  std::vector<int> priorities;
  for (const auto& c : p->columns) {
    names.push_back(c.name);
    priorities.push_back(c.priority);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                             "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(priorities, (std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(PodPrinter, UnscheduledPodShowsNone) {
  Json row = Row("", "Pod", R"({"metadata":{"name":"p"},"spec":{"containers":[]},"status":{}})"_json);
  EXPECT_EQ(row, Json::array({"p", "0/0", "", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"}));
}

TEST(PodPrinter, OddInputDoesNotThrow) {
  for (const char* text : {R"({})", R"({"spec":"x","status":[1]})", R"({"status":{"containerStatuses":[1,"a",{}]}})",
                           R"({"status":{"initContainerStatuses":{"a":1},"conditions":"x"}})"}) {
    EXPECT_NO_THROW(Row("", "Pod", Json::parse(text))) << text;
  }
}

}  // namespace
}  // namespace kubes::apiserver
