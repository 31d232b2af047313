#!/bin/sh
# Starts the load: a busybox pod asking one hpa-demo pod for 100 ms of CPU, over and over.
# There are no Services in kubes yet, so it talks to the first pod's IP directly (the docs'
# walkthrough goes through the php-apache Service, which spreads the requests).
set -e
ip=$(kubectl get pods -l app=hpa-demo -o jsonpath='{.items[0].status.podIP}')
echo "load on pod ${ip}"
kubectl run load-generator --image=busybox:1.36 --restart=Never -- \
  /bin/sh -c "while true; do wget -q -O- 'http://${ip}:8080/cpu?ms=100' >/dev/null; done"
