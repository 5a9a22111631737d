package verify

import "time"

// WaitRenewals waits until no renewal runs (their answers are cached by
// then), for at most d, and reports whether none does.
func (r *Remote) WaitRenewals(d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(time.Millisecond) {
		r.mu.Lock()
		n := len(r.refreshing)
		r.mu.Unlock()
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
