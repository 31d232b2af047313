// The printers with the most logic besides Pod's (pod_test.cc): selectors, Job,
// CronJob, HPA and Service, plus checks over every built-in kind; one row per other
// kind is in kinds_test.cc. Expected cells are what upstream's printers compute for
// the same objects. Now() is 2024-06-01T12:00:00Z.
#include <gtest/gtest.h>

#include "apiserver/printers/printers_test.h"

namespace kubes::apiserver {
namespace {

using testing::Row;

// ---- shared helpers -------------------------------------------------------------------

TEST(Selectors, FormatLikeLabelsSelectorString) {
  struct Case {
    const char* selector;
    const char* want;
  } cases[] = {
      {"null", "<none>"},
      {"{}", "<none>"},
      {R"({"matchLabels":{"b":"2","a":"1"}})", "a=1,b=2"},
      {R"({"matchLabels":{"z":"1"},"matchExpressions":[{"key":"env","operator":"In","values":["prod","dev"]},
          {"key":"tier","operator":"NotIn","values":["db"]},{"key":"x","operator":"Exists"},
          {"key":"gone","operator":"DoesNotExist"}]})",
       "env in (dev,prod),!gone,tier notin (db),x,z=1"},
      {R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})", "<error>"},
      {R"({"matchExpressions":[{"key":"a","operator":"Near"}]})", "<error>"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(printers::FormatLabelSelector(Json::parse(c.selector)), c.want) << c.selector;
  }
  EXPECT_EQ(printers::FormatLabels(R"({"b":"2","a":"1"})"_json), "a=1,b=2");
  EXPECT_EQ(printers::FormatLabels(Json()), "<none>");
}

// ---- batch ------------------------------------------------------------------------------

TEST(JobPrinter, StatusCompletionsDuration) {
  struct Case {
    const char* job;
    const char* status;
    const char* completions;
    const char* duration;
  } cases[] = {
      {R"({"spec":{"completions":3},"status":{"succeeded":1,"startTime":"2024-06-01T11:58:30Z"}})", "Running", "1/3", "90s"},
      {R"({"spec":{"completions":1},"status":{"succeeded":1,"startTime":"2024-06-01T11:50:00Z",
          "completionTime":"2024-06-01T11:52:00Z","conditions":[{"type":"SuccessCriteriaMet","status":"True"},
          {"type":"Complete","status":"True"}]}})",
       "Complete", "1/1", "2m"},
      {R"({"spec":{"completions":1},"status":{"failed":2,"startTime":"2024-06-01T11:00:00Z",
          "conditions":[{"type":"FailureTarget","status":"True"},{"type":"Failed","status":"True"}]}})",
       "Failed", "0/1", "60m"},
      {R"({"spec":{"parallelism":4},"status":{"conditions":[{"type":"Suspended","status":"True"}]}})", "Suspended",
       "0/1 of 4", ""},
      {R"({"spec":{"parallelism":1},"status":{"conditions":[{"type":"FailureTarget","status":"True"}]}})",
       "FailureTarget", "0/1", ""},
      {R"({"metadata":{"deletionTimestamp":"2024-06-01T11:59:00Z"},"spec":{},"status":{}})", "Terminating", "0/1", ""},
      {R"({"spec":{},"status":{"conditions":[{"type":"Complete","status":"False"}]}})", "Running", "0/1", ""},
  };
  for (const auto& c : cases) {
    Json job = Json::parse(c.job);
    job["metadata"]["name"] = "pi";
    job["metadata"]["creationTimestamp"] = "2024-06-01T11:00:00Z";
    job["spec"]["template"] = R"({"spec":{"containers":[{"name":"pi","image":"perl:5"}]}})"_json;
    job["spec"]["selector"] = R"({"matchLabels":{"batch.kubernetes.io/controller-uid":"u1"}})"_json;
    EXPECT_EQ(Row("batch", "Job", job), Json::array({"pi", c.status, c.completions, c.duration, "60m", "pi", "perl:5",
                                                     "batch.kubernetes.io/controller-uid=u1"}))
        << c.job;
  }
}

TEST(CronJobPrinter, Row) {
  Json cj = R"({"metadata":{"name":"hello","creationTimestamp":"2024-06-01T10:00:00Z"},
    "spec":{"schedule":"*/1 * * * *","suspend":false,"jobTemplate":{"spec":{"template":{"spec":{
      "containers":[{"name":"hello","image":"busybox"}]}}}}},
    "status":{"active":[{"name":"hello-1"}],"lastScheduleTime":"2024-06-01T11:59:00Z"}})"_json;
  EXPECT_EQ(Row("batch", "CronJob", cj),
            Json::array({"hello", "*/1 * * * *", "<none>", "False", 1, "60s", "120m", "hello", "busybox", "<none>"}));
  cj["spec"]["timeZone"] = "Etc/UTC";
  cj["spec"].erase("suspend");
  cj["status"] = Json::object();
  Json row = Row("batch", "CronJob", cj);
  EXPECT_EQ(row[2], "Etc/UTC");
  EXPECT_EQ(row[3], "<unset>");
  EXPECT_EQ(row[4], 0);
  EXPECT_EQ(row[5], "<none>");
}

// ---- autoscaling --------------------------------------------------------------------------

TEST(HorizontalPodAutoscalerPrinter, Targets) {
  const char* cpu80 =
      R"({"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}})";
  struct Case {
    std::string spec;    // without scaleTargetRef and maxReplicas
    std::string status;
    const char* targets;
  } cases[] = {
      {std::string(R"({"metrics":[)") + cpu80 + "]}",
       R"({"currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":40}}}]})",
       "cpu: 40%/80%"},
      {std::string(R"({"metrics":[)") + cpu80 + "]}", "{}", "cpu: <unknown>/80%"},
      // autoscaling/v1 shapes, as upstream converts them.
      {R"({"targetCPUUtilizationPercentage":80})", R"({"currentCPUUtilizationPercentage":40})", "cpu: 40%/80%"},
      {R"({"targetCPUUtilizationPercentage":50})", "{}", "cpu: <unknown>/50%"},
      {"{}", "{}", "cpu: <unknown>/80%"},
      {R"({"metrics":[{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"500Mi"}}}]})",
       "{}", "memory: <unknown>/500Mi"},
      {R"({"metrics":[{"type":"Pods","pods":{"metric":{"name":"qps"},"target":{"type":"AverageValue","averageValue":"10"}}},
          {"type":"External","external":{"metric":{"name":"queue"},"target":{"type":"Value","value":"30"}}},
          {"type":"Object","object":{"metric":{"name":"hits"},"target":{"type":"AverageValue","averageValue":"2"}}}]})",
       R"({"currentMetrics":[{"type":"Pods","pods":{"current":{"averageValue":"7"}}}]})", "7/10, <unknown>/30 + 1 more..."},
      {R"({"metrics":[{"type":"ContainerResource","containerResource":{"name":"cpu","container":"app",
          "target":{"type":"Utilization"}}}]})",
       "{}", "cpu: <unknown>/<auto>"},
      {R"({"metrics":[{"type":"Weird"}]})", "{}", "<unknown type>"},
  };
  for (const auto& c : cases) {
    Json hpa = {{"metadata", {{"name", "web"}, {"creationTimestamp", "2024-06-01T11:00:00Z"}}},
                {"spec", Json::parse(c.spec)},
                {"status", Json::parse(c.status)}};
    hpa["spec"]["scaleTargetRef"] = {{"kind", "Deployment"}, {"name", "web"}};
    hpa["spec"]["maxReplicas"] = 10;
    hpa["status"]["currentReplicas"] = 2;
    EXPECT_EQ(Row("autoscaling", "HorizontalPodAutoscaler", hpa),
              Json::array({"web", "Deployment/web", c.targets, "<unset>", 10, 2, "60m"}))
        << c.spec;
  }
}

// ---- Service ------------------------------------------------------------------------------

TEST(ServicePrinter, PortsAndExternalIP) {
  struct Case {
    const char* svc;
    const char* cluster_ip;
    const char* external_ip;
    const char* ports;
  } cases[] = {
      {R"({"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],
          "ports":[{"port":53,"protocol":"UDP"},{"port":53,"protocol":"TCP"}]}})",
       "10.96.0.10", "<none>", "53/UDP,53/TCP"},
      {R"({"spec":{"type":"ClusterIP","clusterIP":"None","clusterIPs":["None"]}})", "None", "<none>", "<none>"},
      {R"({"spec":{"type":"ClusterIP","clusterIPs":["10.96.0.11"],"externalIPs":["203.0.113.5"],"ports":[{"port":80}]}})",
       "10.96.0.11", "203.0.113.5", "80/TCP"},
      {R"({"spec":{"type":"NodePort","clusterIPs":["10.96.0.12"],"ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]}})",
       "10.96.0.12", "<none>", "80:30080/TCP"},
      {R"({"spec":{"type":"LoadBalancer","clusterIPs":["10.96.0.13"],"ports":[{"port":443,"nodePort":31443,"protocol":"TCP"}]}})",
       "10.96.0.13", "<pending>", "443:31443/TCP"},
      {R"({"spec":{"type":"LoadBalancer","clusterIPs":["10.96.0.14"],"externalIPs":["198.51.100.1"]},
          "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.9"},{"hostname":"lb.example.com"},{"ip":"203.0.113.1"}]}}})",
       "10.96.0.14", "203.0.113.1,203.0.113.9,lb.example.com,198.51.100.1", "<none>"},
      {R"({"spec":{"type":"ExternalName","externalName":"db.example.com"}})", "<none>", "db.example.com", "<none>"},
  };
  for (const auto& c : cases) {
    Json svc = Json::parse(c.svc);
    svc["metadata"] = {{"name", "s"}, {"creationTimestamp", "2024-06-01T11:59:00Z"}};
    Json row = Row("", "Service", svc);
    ASSERT_EQ(row.size(), 7u);
    EXPECT_EQ(row[2], c.cluster_ip) << c.svc;
    EXPECT_EQ(row[3], c.external_ip) << c.svc;
    EXPECT_EQ(row[4], c.ports) << c.svc;
    EXPECT_EQ(row[5], "60s");
  }
  Json row = Row("", "Service", R"({"metadata":{"name":"web"},"spec":{"type":"ClusterIP","selector":{"app":"web"}}})"_json);
  EXPECT_EQ(row[1], "ClusterIP");
  EXPECT_EQ(row[6], "app=web");
}

// Every kind kubes serves has a printer, and its columns look like upstream's: a NAME
// column of format "name", wide columns after the others (except Event's NAME).
TEST(Printers, EveryBuiltinKindHasColumns) {
  const std::pair<const char*, const char*> kinds[] = {
      {"", "Namespace"}, {"", "Node"}, {"", "Pod"}, {"", "PodTemplate"}, {"", "ReplicationController"},
      {"", "Service"}, {"", "Endpoints"}, {"", "ConfigMap"}, {"", "Secret"}, {"", "ServiceAccount"}, {"", "Event"},
      {"", "PersistentVolume"}, {"", "PersistentVolumeClaim"}, {"", "LimitRange"}, {"", "ResourceQuota"},
      {"apps", "Deployment"}, {"apps", "ReplicaSet"}, {"apps", "StatefulSet"}, {"apps", "DaemonSet"},
      {"apps", "ControllerRevision"}, {"batch", "Job"}, {"batch", "CronJob"},
      {"autoscaling", "HorizontalPodAutoscaler"}, {"policy", "PodDisruptionBudget"},
      {"networking.k8s.io", "Ingress"}, {"networking.k8s.io", "IngressClass"}, {"networking.k8s.io", "NetworkPolicy"},
      {"discovery.k8s.io", "EndpointSlice"}, {"coordination.k8s.io", "Lease"}, {"events.k8s.io", "Event"},
      {"rbac.authorization.k8s.io", "ClusterRole"}, {"rbac.authorization.k8s.io", "ClusterRoleBinding"},
      {"rbac.authorization.k8s.io", "Role"}, {"rbac.authorization.k8s.io", "RoleBinding"},
      {"storage.k8s.io", "StorageClass"}, {"scheduling.k8s.io", "PriorityClass"},
      {"apiextensions.k8s.io", "CustomResourceDefinition"},
  };
  for (const auto& [group, kind] : kinds) {
    const TablePrinter* p = FindPrinter(group, kind);
    ASSERT_NE(p, nullptr) << group << "/" << kind;
    int names = 0;
    for (const auto& c : p->columns) names += c.format == "name";
    EXPECT_EQ(names, 1) << group << "/" << kind;
    EXPECT_EQ(Row(group, kind, Json::object()).size(), p->columns.size());
  }
  EXPECT_EQ(FindPrinter("example.com", "Widget"), nullptr);
  EXPECT_EQ(DefaultPrinter().columns.size(), 2u);
}

}  // namespace
}  // namespace kubes::apiserver
