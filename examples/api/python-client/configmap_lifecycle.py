#!/usr/bin/env python3
"""Creates, changes and deletes a ConfigMap with the official Python client while a watch
reports each change. Run with Debian's python3 (it has python3-kubernetes):

    KUBECONFIG=/var/lib/kubes/kubeconfig.yaml /usr/bin/python3 configmap_lifecycle.py [namespace]
"""
import sys
import threading

from kubernetes import client, config, watch


def main():
    namespace = sys.argv[1] if len(sys.argv) > 1 else "python-demo"
    config.load_kube_config()  # reads $KUBECONFIG, like kubectl
    core = client.CoreV1Api()

    names = [ns.metadata.name for ns in core.list_namespace().items]
    print("namespaces:", " ".join(names))
    if namespace not in names:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))

    # Start watching from "now": the list's resourceVersion. Events before it are not replayed.
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    w = watch.Watch()

    def make_changes():
        # Racing the watch is fine: it replays every change after `start`.
        cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="demo", labels={"app": "demo"}),
                                data={"greeting": "hello"})
        core.create_namespaced_config_map(namespace, cm)
        core.patch_namespaced_config_map("demo", namespace, {"data": {"greeting": "hi"}})
        core.delete_namespaced_config_map("demo", namespace)

    changer = threading.Thread(target=make_changes)
    changer.start()
    # timeout_seconds ends the watch on the server side if nothing else does.
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=start,
                          label_selector="app=demo", timeout_seconds=30):
        obj = event["object"]
        print(event["type"], obj.metadata.name, obj.metadata.resource_version, obj.data)
        if event["type"] == "DELETED":
            w.stop()
    changer.join()


if __name__ == "__main__":
    main()
