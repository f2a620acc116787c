#!/bin/sh
# Renders rules/outpost.rules.yml as a Kubernetes PrometheusRule (Prometheus
# Operator) on stdout. The rule file is the only source: `make rules` writes
# packaging/kubernetes/prometheusrule.yaml with this, and `make test` fails
# when the committed rendering is stale.
set -eu
src=${1:-rules/outpost.rules.yml}
cat <<HEADER
# GENERATED from rules/outpost.rules.yml by packaging/gen-prometheusrule.sh.
# Do not edit: change the rule file and run \`make rules\`.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: outpost
  labels:
    app.kubernetes.io/name: outpost
    role: alert-rules
spec:
HEADER
# Indent the rule file under spec: (its top-level key is groups:).
sed -e '/^---[[:space:]]*$/d' -e 's/^\(.\)/  \1/' "$src"
