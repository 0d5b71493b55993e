package sync

import (
	"runtime"
	stdsync "sync"
)

// parallelMin is the least work worth splitting across goroutines.
const parallelMin = 20000

// parallel calls fn over [0, n) in contiguous chunks, one per CPU, and
// waits for them. worker numbers the chunk, from 0, so that fn can keep
// per-worker state. Small n runs in the caller's goroutine.
func parallel(n int, fn func(worker, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/parallelMin, 1))
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	var wg stdsync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(w, lo, hi) })
	}
	wg.Wait()
}

// workers returns how many chunks parallel(n, ...) makes.
func workers(n int) int {
	return min(runtime.GOMAXPROCS(0), max(n/parallelMin, 1))
}
