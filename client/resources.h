// The built-in resources components address most, named once (upstream: the typed
// clients of client-go, e.g. clientset.CoreV1().Pods()).
#pragma once

#include "client/client.h"

namespace kubes::client {

inline const Resource kPods{"", "v1", "pods", true, "Pod"};
inline const Resource kNodes{"", "v1", "nodes", false, "Node"};
inline const Resource kNamespaces{"", "v1", "namespaces", false, "Namespace"};
inline const Resource kServiceAccounts{"", "v1", "serviceaccounts", true, "ServiceAccount"};
inline const Resource kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};
inline const Resource kSecrets{"", "v1", "secrets", true, "Secret"};
inline const Resource kEvents{"", "v1", "events", true, "Event"};
inline const Resource kPersistentVolumes{"", "v1", "persistentvolumes", false, "PersistentVolume"};
inline const Resource kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim"};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
inline const Resource kReplicaSets{"apps", "v1", "replicasets", true, "ReplicaSet"};
inline const Resource kDeployments{"apps", "v1", "deployments", true, "Deployment"};
inline const Resource kJobs{"batch", "v1", "jobs", true, "Job"};
inline const Resource kCronJobs{"batch", "v1", "cronjobs", true, "CronJob"};
inline const Resource kStatefulSets{"apps", "v1", "statefulsets", true, "StatefulSet"};
inline const Resource kDaemonSets{"apps", "v1", "daemonsets", true, "DaemonSet"};
inline const Resource kControllerRevisions{"apps", "v1", "controllerrevisions", true, "ControllerRevision"};
inline const Resource kReplicationControllers{"", "v1", "replicationcontrollers", true, "ReplicationController"};
inline const Resource kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets", true, "PodDisruptionBudget"};
inline const Resource kStorageClasses{"storage.k8s.io", "v1", "storageclasses", false, "StorageClass"};

}  // namespace kubes::client
