// Package assemble decides and performs the S2I assemble phase: it moves the
// source into place and drives the builder, as the upstream assemble script does.
package assemble
