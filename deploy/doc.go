// Package deploy holds no code: its directory holds what runs mqbench
// elsewhere than a developer's shell — Kubernetes manifests (kubernetes/),
// a Prometheus configuration (prometheus/) and a Grafana dashboard with its
// provisioning (grafana/). Its tests check those files, docker-compose.yml,
// the Dockerfile and the scripts that use them, offline.
package deploy
