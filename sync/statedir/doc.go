// Package statedir keeps dirbridge's state directory: small JSON files that
// survive restarts (what the last run did, the source's scope hash), written
// atomically, and a lock that keeps two instances from syncing the same
// organization at once.
//
// Under systemd the directory is $STATE_DIRECTORY (StateDirectory=dirbridge,
// so /var/lib/dirbridge). Every file is private to the service: the
// directory is 0700 and each file 0600.
//
//	dir, err := statedir.Open(path)
//	unlock, err := dir.Lock() // *LockedError when another dirbridge holds it
//	defer unlock()
//	err = dir.Load("status", &st) // errors.Is(err, statedir.ErrNotExist) on a first start,
//	                              // errors.Is(err, statedir.ErrCorrupt) when the file must be rebuilt
//	err = dir.Save("status", st)
package statedir
