//go:build !unix

package claimcache

// mapChunk never maps here: chunks come from the heap.
func mapChunk(size int) []byte { return nil }

func unmapChunk(b []byte) {}
