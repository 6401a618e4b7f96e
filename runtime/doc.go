// Package runtime launches the program chosen by package run, optionally as a
// well-behaved PID 1 that forwards signals and reaps zombies.
package runtime
