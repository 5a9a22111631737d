// Package tokenhash gives a token's cache key: its SHA-256, computed
// without copying the token to the heap. Caches key on the hash so that
// they never hold a token.
package tokenhash

import (
	"crypto/sha256"
	"sync"
)

// Key is a token's cache key.
type Key = [sha256.Size]byte

// bufs holds scratch buffers: []byte(token) for a token of a few hundred
// bytes would be a heap allocation on every cached check.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Of returns the SHA-256 of token.
func Of(token string) Key {
	p := bufs.Get().(*[]byte)
	b := append((*p)[:0], token...)
	k := sha256.Sum256(b)
	*p = b[:0]
	bufs.Put(p)
	return k
}
