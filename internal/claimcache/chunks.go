package claimcache

import (
	"runtime"
	"sync"
	"unsafe"
)

// chunks holds a Cache's slots. Where the system allows it (mapChunk),
// they are mapped outside the Go heap: a full cache is long-lived data
// that the garbage collector would otherwise count in the heap and leave
// as much room again for garbage (GOGC=100), doubling what it costs in
// RSS. A slot holds no pointer, so the collector has nothing to find
// there.
type chunks struct {
	list [][]slot // read under Cache.mu, changed under Cache.mu and mu

	mu     sync.Mutex // for the cleanup, which runs without Cache.mu
	mapped int        // bytes mapped outside the heap
}

// newChunks returns the chunks of c, freed when c is collected.
func newChunks(c *Cache) *chunks {
	ch := &chunks{}
	runtime.AddCleanup(c, func(ch *chunks) { ch.free() }, ch)
	return ch
}

// grow adds a chunk of n slots, zeroed.
func (ch *chunks) grow(n int) {
	size := n * int(unsafe.Sizeof(slot{}))
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if b := mapChunk(size); b != nil {
		ch.list = append(ch.list, unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(b))), n))
		ch.mapped += len(b)
		return
	}
	ch.list = append(ch.list, make([]slot, n))
}

// free releases every chunk; the slots must not be used again.
func (ch *chunks) free() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for _, s := range ch.list {
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(slot{})))
		unmapChunk(b) // a no-op for one made on the heap
	}
	ch.list, ch.mapped = nil, 0
}

// size reports the chunks and the bytes mapped outside the heap.
func (ch *chunks) size() (n, mapped int) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.list), ch.mapped
}
