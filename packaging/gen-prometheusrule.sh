#!/bin/sh
# Renders a rule file of rules/ as a Kubernetes PrometheusRule (Prometheus Operator) on
# stdout. The rule files are the only source: `make rules` writes
#   rules/outpost.rules.yml        -> packaging/kubernetes/prometheusrule.yaml        (outpost)
#   rules/outpost.fleet.rules.yml  -> packaging/kubernetes/prometheusrule-fleet.yaml  (outpost-fleet)
# with this, and `make test` fails when a committed rendering is stale.
#
# Two objects, not one with both files' groups: the fleet rules are optional (for one SLO
# over many agents, with the agents' own SLO alerts muted), so applying the default
# object must not turn them on. The object's name comes from the file name.
set -eu
src=${1:-rules/outpost.rules.yml}
file=$(basename "$src")
name=$(basename "$file" .rules.yml | tr . -)
cat <<HEADER
# GENERATED from rules/$file by packaging/gen-prometheusrule.sh.
# Do not edit: change the rule file and run \`make rules\`.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: $name
  labels:
    app.kubernetes.io/name: outpost
    role: alert-rules
spec:
HEADER
# Indent the rule file under spec: (its top-level key is groups:).
sed -e '/^---[[:space:]]*$/d' -e 's/^\(.\)/  \1/' "$src"
