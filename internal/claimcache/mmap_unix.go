//go:build unix

package claimcache

import (
	"sync"
	"syscall"
	"unsafe"
)

// mapped remembers which chunks mapChunk made, by address, so that
// unmapChunk never unmaps memory the Go heap owns.
var mapped sync.Map // uintptr → struct{}

// mapChunk maps size bytes of zeroed memory outside the Go heap; nil if it
// cannot (then the chunk comes from the heap).
func mapChunk(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil || len(b) == 0 {
		return nil
	}
	mapped.Store(uintptr(unsafe.Pointer(unsafe.SliceData(b))), struct{}{})
	return b
}

func unmapChunk(b []byte) {
	if len(b) == 0 {
		return
	}
	if _, ok := mapped.LoadAndDelete(uintptr(unsafe.Pointer(unsafe.SliceData(b)))); ok {
		syscall.Munmap(b)
	}
}
