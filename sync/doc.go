// Package sync is the domain of dirbridge: what a directory wants (a Snapshot),
// what a Bitwarden organization has (an OrgState), the pure Diff between them
// (a Plan of operations), the guards that decide whether a plan may run, and
// the Syncer that reads, plans and applies.
//
// The package imports neither sources nor sinks: they import it and implement
// its small interfaces (Source and Sink). Inside this package the standard
// library's sync package, where needed, is imported as stdsync.
package sync
