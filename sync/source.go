package sync

import "context"

// Source reads the desired state from one directory.
type Source interface {
	// Snapshot returns every in-scope user and group. On any failed page or
	// query it returns an error, never a partial or empty Snapshot.
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Sink reads and changes one Bitwarden organization.
type Sink interface {
	// State returns the organization's members and groups, with the member
	// ids of every group that has an external id.
	State(ctx context.Context) (OrgState, error)
	// Apply carries out one operation. It must be safe to retry: a second
	// Apply of an operation that already took effect changes nothing more.
	// Its errors name the operation ("invite alice@example.com: ...").
	Apply(ctx context.Context, op Op) error
}
