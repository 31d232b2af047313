// One row per built-in kind (Pod, Job, CronJob, HPA and Service have their own tests),
// as upstream's printers compute it. Now() is 2024-06-01T12:00:00Z and every object is
// created at 11:00, so AGE is "60m", unless the object says otherwise.
#include <gtest/gtest.h>

#include "apiserver/printers/printers_test.h"

namespace kubes::apiserver {
namespace {

using testing::Row;

struct KindCase {
  const char* group;
  const char* kind;
  const char* object;  // JSON
  const char* row;     // JSON array of the expected cells
};

const KindCase kKindCases[] = {
    // core
    {"", "Namespace", R"({"metadata":{"name":"dev"},"status":{"phase":"Active"}})", R"(["dev","Active","60m"])"},
    {"", "ConfigMap", R"({"metadata":{"name":"cfg"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})",
     R"(["cfg",3,"60m"])"},
    {"", "Secret", R"({"metadata":{"name":"s"},"type":"Opaque","data":{"a":"MQ=="}})", R"(["s","Opaque",1,"60m"])"},
    {"", "ServiceAccount", R"({"metadata":{"name":"default"}})", R"(["default",0,"60m"])"},
    {"", "Endpoints",
     R"({"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"ports":[{"port":80},{"port":443}]}]})",
     R"(["web","10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...","60m"])"},
    {"", "Endpoints",
     R"({"metadata":{"name":"v6"},"subsets":[{"addresses":[{"ip":"fd00::1"}],"ports":[{"port":80}]},{"addresses":[{"ip":"10.0.0.3"}]}]})",
     R"(["v6","[fd00::1]:80,10.0.0.3","60m"])"},
    {"", "Endpoints", R"({"metadata":{"name":"empty"}})", R"(["empty","<none>","60m"])"},
    {"", "Node",
     R"({"metadata":{"name":"n1","labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/role":"worker"}},
        "spec":{"unschedulable":true},
        "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
          "addresses":[{"type":"Hostname","address":"n1"},{"type":"InternalIP","address":"192.168.1.10"}],
          "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian GNU/Linux 12","kernelVersion":"6.1.0",
                      "containerRuntimeVersion":"containerd://1.7.0"}}})",
     R"(["n1","Ready,SchedulingDisabled","control-plane,worker","60m","v1.32.0","192.168.1.10","<none>",
         "Debian GNU/Linux 12","6.1.0","containerd://1.7.0"])"},
    {"", "Node", R"({"metadata":{"name":"n2"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})",
     R"(["n2","NotReady","<none>","60m","","<none>","<none>","<unknown>","<unknown>","<unknown>"])"},
    {"", "Event",
     R"({"metadata":{"name":"web.17a"},"involvedObject":{"kind":"Pod","name":"web","fieldPath":"spec.containers{app}"},
        "reason":"BackOff","message":"Back-off restarting failed container\n","type":"Warning",
        "source":{"component":"kubelet","host":"node-1"},"count":5,
        "firstTimestamp":"2024-06-01T11:50:00Z","lastTimestamp":"2024-06-01T11:58:00Z"})",
     R"(["2m","Warning","BackOff","pod/web","spec.containers{app}","kubelet, node-1",
         "Back-off restarting failed container","10m",5,"web.17a"])"},
    {"", "Event",
     R"({"metadata":{"name":"web.17b"},"involvedObject":{"kind":"Pod","name":"web"},"reason":"Scheduled",
        "message":"Successfully assigned","type":"Normal","eventTime":"2024-06-01T11:59:00.123456Z",
        "series":{"count":3,"lastObservedTime":"2024-06-01T11:59:30.000000Z"},"reportingController":"default-scheduler"})",
     R"(["30s","Normal","Scheduled","pod/web","","default-scheduler","Successfully assigned","59s",3,"web.17b"])"},
    {"events.k8s.io", "Event",
     R"({"metadata":{"name":"web.17c"},"regarding":{"kind":"Deployment","name":"web"},"note":"Scaled up",
        "reason":"ScalingReplicaSet","type":"Normal","eventTime":"2024-06-01T11:58:00.000000Z",
        "reportingController":"deployment-controller","reportingInstance":"kcm-1"})",
     R"(["2m","Normal","ScalingReplicaSet","deployment/web","","deployment-controller, kcm-1","Scaled up","2m",1,
         "web.17c"])"},
    {"", "PersistentVolumeClaim",
     R"({"metadata":{"name":"data"},"spec":{"volumeName":"pv-1","storageClassName":"standard","volumeMode":"Filesystem",
        "resources":{"requests":{"storage":"1Gi"}}},
        "status":{"phase":"Bound","capacity":{"storage":"2Gi"},"accessModes":["ReadWriteMany","ReadWriteOnce"]}})",
     R"(["data","Bound","pv-1","2Gi","RWO,RWX","standard","<unset>","60m","Filesystem"])"},
    {"", "PersistentVolumeClaim",
     R"({"metadata":{"name":"claim","deletionTimestamp":"2024-06-01T11:59:00Z"},"spec":{},"status":{"phase":"Pending"}})",
     R"(["claim","Terminating","","","","","<unset>","60m","<unset>"])"},
    {"", "PersistentVolume",
     R"({"metadata":{"name":"pv-1","annotations":{"volume.beta.kubernetes.io/storage-class":"slow"}},
        "spec":{"capacity":{"storage":"5Gi"},"accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",
          "claimRef":{"namespace":"default","name":"data"},"storageClassName":"fast","volumeMode":"Block"},
        "status":{"phase":"Bound"}})",
     R"(["pv-1","5Gi","RWO","Retain","Bound","default/data","slow","<unset>","","60m","Block"])"},
    {"", "LimitRange", R"({"metadata":{"name":"limits"}})", R"(["limits","2024-06-01T11:00:00Z"])"},
    {"", "ResourceQuota",
     R"({"metadata":{"name":"q"},"status":{"hard":{"pods":"10","cpu":"2","limits.memory":"2Gi","requests.memory":"1Gi"},
        "used":{"cpu":"500m","pods":"3"}}})",
     R"(["q","60m","cpu: 500m/2, pods: 3/10, requests.memory: 0/1Gi","limits.memory: 0/2Gi"])"},
    {"", "ReplicationController",
     R"({"metadata":{"name":"rc"},"spec":{"replicas":3,"selector":{"app":"web"},
        "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"},{"name":"log","image":"busybox"}]}}},
        "status":{"replicas":3,"readyReplicas":2}})",
     R"(["rc",3,3,2,"60m","nginx,log","nginx:1.27,busybox","app=web"])"},
    {"", "PodTemplate",
     R"({"metadata":{"name":"tpl"},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"app","image":"busybox"}]}}})",
     R"(["tpl","app","busybox","app=web"])"},
    // apps
    {"apps", "Deployment",
     R"({"metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
        "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}},
        "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})",
     R"(["web","2/3",3,2,"60m","nginx","nginx:1.27","app=web"])"},
    {"apps", "Deployment", R"({"metadata":{"name":"bare"},"spec":{"selector":{}}})",
     R"(["bare","0/0",0,0,"60m","","",""])"},
    {"apps", "ReplicaSet",
     R"({"metadata":{"name":"web-abc"},"spec":{"replicas":3,
        "selector":{"matchLabels":{"pod-template-hash":"abc","app":"web"}},
        "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}},
        "status":{"replicas":3,"readyReplicas":3}})",
     R"(["web-abc",3,3,3,"60m","nginx","nginx:1.27","app=web,pod-template-hash=abc"])"},
    {"apps", "StatefulSet",
     R"({"metadata":{"name":"db"},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"pg","image":"postgres:16"}]}}},
        "status":{"readyReplicas":1}})",
     R"(["db","1/3","60m","pg","postgres:16"])"},
    {"apps", "DaemonSet",
     R"({"metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},
        "template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"agent","image":"agent:1"}]}}},
        "status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"numberReady":1,"updatedNumberScheduled":2,
          "numberAvailable":1}})",
     R"(["agent",2,2,1,2,1,"kubernetes.io/os=linux","60m","agent","agent:1","app=agent"])"},
    {"apps", "ControllerRevision",
     R"({"metadata":{"name":"agent-5d4","ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"agent",
        "controller":true}]},"revision":2})",
     R"(["agent-5d4","daemonset.apps/agent",2,"60m"])"},
    {"apps", "ControllerRevision", R"({"metadata":{"name":"orphan"},"revision":1})", R"(["orphan","<none>",1,"60m"])"},
    // policy, networking, discovery, coordination
    {"policy", "PodDisruptionBudget",
     R"({"metadata":{"name":"pdb"},"spec":{"minAvailable":"50%"},"status":{"disruptionsAllowed":1}})",
     R"(["pdb","50%","N/A",1,"60m"])"},
    {"policy", "PodDisruptionBudget", R"({"metadata":{"name":"pdb2"},"spec":{"maxUnavailable":1}})",
     R"(["pdb2","N/A","1",0,"60m"])"},
    {"networking.k8s.io", "Ingress",
     R"({"metadata":{"name":"ing"},"spec":{"ingressClassName":"nginx","tls":[{"hosts":["a.example.com"]}],
        "rules":[{"host":"a.example.com"},{},{"host":"b.example.com"},{"host":"c.example.com"},{"host":"d.example.com"}]},
        "status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.5"}]}}})",
     R"(["ing","nginx","a.example.com,b.example.com,c.example.com + 2 more...","10.0.0.5","80, 443","60m"])"},
    {"networking.k8s.io", "Ingress", R"({"metadata":{"name":"ing2"},"spec":{}})",
     R"(["ing2","<none>","*","","80","60m"])"},
    {"networking.k8s.io", "IngressClass",
     R"({"metadata":{"name":"nginx"},"spec":{"controller":"k8s.io/ingress-nginx",
        "parameters":{"apiGroup":"k8s.example.com","kind":"IngressParameters","name":"external-lb"}}})",
     R"(["nginx","k8s.io/ingress-nginx","IngressParameters.k8s.example.com/external-lb","60m"])"},
    {"networking.k8s.io", "NetworkPolicy", R"({"metadata":{"name":"deny-all"},"spec":{"podSelector":{}}})",
     R"(["deny-all","<none>","60m"])"},
    {"networking.k8s.io", "NetworkPolicy",
     R"({"metadata":{"name":"db"},"spec":{"podSelector":{"matchLabels":{"role":"db"}}}})", R"(["db","role=db","60m"])"},
    {"discovery.k8s.io", "EndpointSlice",
     R"({"metadata":{"name":"web-x"},"addressType":"IPv4","ports":[{"name":"http","port":80},{"name":"grpc"}],
        "endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2","10.0.0.3","10.0.0.4"]}]})",
     R"(["web-x","IPv4","80,grpc","10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...","60m"])"},
    {"discovery.k8s.io", "EndpointSlice", R"({"metadata":{"name":"empty"},"addressType":"IPv6"})",
     R"(["empty","IPv6","<unset>","<unset>","60m"])"},
    {"coordination.k8s.io", "Lease", R"({"metadata":{"name":"node-1"},"spec":{"holderIdentity":"node-1"}})",
     R"(["node-1","node-1","60m"])"},
    // rbac, storage, scheduling, apiextensions
    {"rbac.authorization.k8s.io", "Role", R"({"metadata":{"name":"reader"}})", R"(["reader","2024-06-01T11:00:00Z"])"},
    {"rbac.authorization.k8s.io", "ClusterRole",
     R"({"metadata":{"name":"view","creationTimestamp":"2024-05-01T10:00:00+02:00"}})", R"(["view","2024-05-01T08:00:00Z"])"},
    {"rbac.authorization.k8s.io", "RoleBinding",
     R"({"metadata":{"name":"rb"},"roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"User","name":"alice"},
        {"kind":"User","name":"bob"},{"kind":"Group","name":"devs"},{"kind":"ServiceAccount","namespace":"default","name":"ci"}]})",
     R"(["rb","Role/reader","60m","alice, bob","devs","default/ci"])"},
    {"rbac.authorization.k8s.io", "ClusterRoleBinding",
     R"({"metadata":{"name":"crb"},"roleRef":{"kind":"ClusterRole","name":"view"}})",
     R"(["crb","ClusterRole/view","60m","","",""])"},
    {"storage.k8s.io", "StorageClass",
     R"({"metadata":{"name":"local-path","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
        "provisioner":"rancher.io/local-path","reclaimPolicy":"Retain","volumeBindingMode":"WaitForFirstConsumer",
        "allowVolumeExpansion":true})",
     R"j(["local-path (default)","rancher.io/local-path","Retain","WaitForFirstConsumer",true,"60m"])j"},
    {"storage.k8s.io", "StorageClass", R"({"metadata":{"name":"sc"},"provisioner":"example.com/x"})",
     R"(["sc","example.com/x","Delete","Immediate",false,"60m"])"},
    {"scheduling.k8s.io", "PriorityClass",
     R"({"metadata":{"name":"high"},"value":1000,"globalDefault":false,"preemptionPolicy":"PreemptLowerPriority"})",
     R"(["high",1000,false,"60m","PreemptLowerPriority"])"},
    {"apiextensions.k8s.io", "CustomResourceDefinition", R"({"metadata":{"name":"widgets.example.com"}})",
     R"(["widgets.example.com","2024-06-01T11:00:00Z"])"},
};

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const KindCase& c, std::ostream* os) { *os << c.group << "/" << c.kind << " " << c.object; }

class KindTest : public ::testing::TestWithParam<KindCase> {};

TEST_P(KindTest, Row) {
  const KindCase& c = GetParam();
  Json obj = Json::parse(c.object);
  if (!obj["metadata"].contains("creationTimestamp")) obj["metadata"]["creationTimestamp"] = "2024-06-01T11:00:00Z";
  EXPECT_EQ(Row(c.group, c.kind, obj), Json::parse(c.row)) << c.group << "/" << c.kind << " " << c.object;
}

INSTANTIATE_TEST_SUITE_P(Upstream, KindTest, ::testing::ValuesIn(kKindCases),
                         [](const ::testing::TestParamInfo<KindCase>& info) {
                           return std::string(info.param.kind) + std::to_string(info.index);
                         });

TEST(CreatedAt, MissingTimestampIsGoZeroTime) {
  EXPECT_EQ(Row("rbac.authorization.k8s.io", "Role", R"({"metadata":{"name":"r"}})"_json),
            Json::array({"r", "0001-01-01T00:00:00Z"}));
}

}  // namespace
}  // namespace kubes::apiserver
