// Package deploy holds Ringback's packaging: deploy/build.sh (the static
// build the Dockerfile and CI share), compose.yaml, the systemd unit and
// the Kubernetes manifests. Its tests check them against the server: no
// Docker engine or cluster is needed to know the probes, ports and paths
// agree with what `ringback serve` serves.
package deploy
