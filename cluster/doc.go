// Package cluster holds pys2i's cluster definitions (tekton/pys2i-build.yaml,
// a Tekton Task; shipwright/pys2i.yaml, a Shipwright ClusterBuildStrategy)
// and checks them with the projects' own Go types and validation. It is a
// module of its own so that Tekton's, Shipwright's and Kubernetes'
// dependencies stay out of pys2i's.
package cluster
