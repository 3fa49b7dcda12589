#!/usr/bin/env bash
# Validates deploy/k8s/*.yaml against the Kubernetes API schemas, offline: kubernetes-validate
# ships the schemas, so no cluster is needed. Versions pinned, so a result is repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
VALIDATOR_VERSION=1.37.0
KUBERNETES_VERSION=1.31.0
venv="${AGENTLOAD_K8S_VENV:-target/k8s-validate-venv}"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    echo "== installing python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q "kubernetes-validate==${VALIDATOR_VERSION}"
fi
"$venv/bin/kubernetes-validate" --strict -k "$KUBERNETES_VERSION" deploy/k8s/*.yaml
