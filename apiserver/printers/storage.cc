// Columns of the storage kinds: PersistentVolume, PersistentVolumeClaim (core/v1) and
// StorageClass (storage.k8s.io/v1) (upstream printers.go: printPersistentVolume, ...).
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

using namespace printers;

// The annotation that named a claim's or volume's class before spec.storageClassName.
constexpr const char* kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

// "RWO,RWX" in a fixed order, whatever the order in the object (GetAccessModesAsString).
std::string AccessModes(const Json& modes) {
  std::vector<std::string> out;
  auto has = [&](const char* mode) {
    for (const auto& m : Items(modes)) {
      if (Str(m) == mode) return true;
    }
    return false;
  };
  if (has("ReadWriteOnce")) out.push_back("RWO");
  if (has("ReadOnlyMany")) out.push_back("ROX");
  if (has("ReadWriteMany")) out.push_back("RWX");
  if (has("ReadWriteOncePod")) out.push_back("RWOP");
  return Join(out, ",");
}

// GetPersistentVolumeClass / GetPersistentVolumeClaimClass: the beta annotation first.
std::string StorageClassOf(const Json& o) {
  const Json& annotation = Get(o, "metadata", "annotations", kBetaStorageClassAnnotation);
  if (annotation.is_string()) return Str(annotation);
  return Str(Get(o, "spec", "storageClassName"));
}

std::string OrUnset(const Json& v) { return v.is_string() ? Str(v) : "<unset>"; }

Json PersistentVolumeRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  std::string claim;
  if (Has(Get(spec, "claimRef"))) claim = Str(Get(spec, "claimRef", "namespace")) + "/" + Str(Get(spec, "claimRef", "name"));
  std::string phase = Str(Get(o, "status", "phase"));
  if (Has(Get(o, "metadata", "deletionTimestamp"))) phase = "Terminating";
  return Json::array({Name(o), Quantity(Get(spec, "capacity", "storage")), AccessModes(Get(spec, "accessModes")),
                      Str(Get(spec, "persistentVolumeReclaimPolicy")), phase, claim, StorageClassOf(o),
                      OrUnset(Get(spec, "volumeAttributesClassName")), Str(Get(o, "status", "reason")), Age(o, now),
                      OrUnset(Get(spec, "volumeMode"))});
}

Json PersistentVolumeClaimRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  const Json& status = Get(o, "status");
  std::string phase = Str(Get(status, "phase"));
  if (Has(Get(o, "metadata", "deletionTimestamp"))) phase = "Terminating";
  // Capacity and access modes are those of the bound volume, so only shown once bound.
  std::string capacity, modes;
  if (!Str(Get(spec, "volumeName")).empty()) {
    capacity = Quantity(Get(status, "capacity", "storage"));
    modes = AccessModes(Get(status, "accessModes"));
  }
  return Json::array({Name(o), phase, Str(Get(spec, "volumeName")), capacity, modes, StorageClassOf(o),
                      OrUnset(Get(spec, "volumeAttributesClassName")), Age(o, now), OrUnset(Get(spec, "volumeMode"))});
}

Json StorageClassRow(const Json& o, TimePoint now) {
  std::string name = Name(o);
  const Json& annotations = Get(o, "metadata", "annotations");
  if (Str(Get(annotations, "storageclass.kubernetes.io/is-default-class")) == "true" ||
      Str(Get(annotations, "storageclass.beta.kubernetes.io/is-default-class")) == "true") {
    name += " (default)";
  }
  std::string reclaim = Str(Get(o, "reclaimPolicy"));
  std::string binding = Str(Get(o, "volumeBindingMode"));
  return Json::array({name, Str(Get(o, "provisioner")), reclaim.empty() ? "Delete" : reclaim,
                      binding.empty() ? "Immediate" : binding, IsTrue(Get(o, "allowVolumeExpansion")), Age(o, now)});
}

}  // namespace

void RegisterStoragePrinters() {
  Register("", "PersistentVolume",
           {{NameColumn(), Col("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity."),
             Col("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
             Col("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
             Col("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
             Col("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
             Col("StorageClass", "string", "StorageClass of the pv"),
             Col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
             Col("Reason", "string", "reason is a brief CamelCase string that describes any failure."), AgeColumn(),
             Wide("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.")},
            PersistentVolumeRow});
  Register("", "PersistentVolumeClaim",
           {{NameColumn(), Col("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
             Col("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."),
             Col("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
             Col("Access Modes", "string", "accessModes contains the actual access modes the volume backing the PVC has."),
             Col("StorageClass", "string", "StorageClass of the pvc"),
             Col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"), AgeColumn(),
             Wide("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim.")},
            PersistentVolumeClaimRow});
  Register("storage.k8s.io", "StorageClass",
           {{NameColumn(), Col("Provisioner", "string", "provisioner indicates the type of the provisioner."),
             Col("ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class."),
             Col("VolumeBindingMode", "string", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound."),
             Col("AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage class allow volume expand."),
             AgeColumn()},
            StorageClassRow});
}

}  // namespace kubes::apiserver
