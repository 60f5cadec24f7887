// Package kubernetes holds no code: its directory holds the Kubernetes
// manifests that run mqbench as an Indexed Job (one shard per pod), and its
// tests decode every manifest strictly into the official API types and check
// the invariants the shards depend on. See README.md in this directory.
package kubernetes
