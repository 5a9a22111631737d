// Package claimcache remembers tokens whose signature checked out, with
// their claims, compactly: the issuer's check and verify.Local share it.
package claimcache

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/cardgate/cardgate/token"
	"github.com/google/uuid"
)

// Cache remembers tokens whose signature checked out, keyed by the token's
// SHA-256, with their claims: a hit skips Ed25519. It holds at most size
// tokens; the oldest added leaves first (tokens all live as long, so the
// oldest are also the first to expire). It is safe for concurrent use.
//
// A token takes a slot of 96 bytes without a pointer, in chunks allocated
// as the cache fills (outside the Go heap where the system allows: see
// chunks), plus about 25 bytes of index in the heap: under 100 bytes
// beyond the hash (TestEntrySize) where a general LRU of strings took 240
// to 270. The garbage collector never scans it. Package IDs, which are
// few, are kept once each; user IDs and conversation IDs (GUIDs) and jtis
// in their 16 bytes. Claims that would not come back the same are not
// cached (Add says so).
type Cache struct {
	mu     sync.RWMutex
	size   int
	index  map[uint64]uint32 // the hash's first 8 bytes → slot
	chunks *chunks           // slot i is chunks.list[i/chunkSlots][i%chunkSlots]
	next   int               // the slot the next Add takes
	pkgs   map[string]uint32 // package ID → its number in pkgIDs, from 1
	pkgIDs []string
}

// chunkSlots is how many slots are allocated at a time (96 KiB).
const chunkSlots = 1024

// maxPackages bounds the package IDs kept: when a new one would be the
// one more, the whole cache starts over. An installation has a few cards.
const maxPackages = 4096

// slot is one token. pkg 0 marks a free slot.
type slot struct {
	hash            [sha256.Size]byte
	user, jti, conv [16]byte
	pkg             uint32 // with hasConv set when the token names a conversation
	iat, nbf, exp   uint32 // Unix seconds
}

// hasConv marks, in slot.pkg, a token minted in a conversation (package
// numbers are at most maxPackages).
const hasConv = 1 << 31

// New returns a Cache of at most size tokens; size must be positive.
func New(size int) *Cache {
	c := &Cache{size: max(size, 1), index: map[uint64]uint32{}, pkgs: map[string]uint32{}}
	c.chunks = newChunks(c)
	return c
}

func indexKey(h *[sha256.Size]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

func (c *Cache) at(i uint32) *slot { return &c.chunks.list[i/chunkSlots][i%chunkSlots] }

// Entry is a cached token's claims.
type Entry struct {
	s   slot
	pkg string
}

// Get returns the claims of the token whose hash is h.
func (c *Cache) Get(h *[sha256.Size]byte) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.index[indexKey(h)]
	if !ok {
		return Entry{}, false
	}
	s := c.at(i)
	if s.hash != *h || s.pkg == 0 {
		return Entry{}, false
	}
	return Entry{s: *s, pkg: c.pkgIDs[s.pkg&^hasConv-1]}, true
}

// UserID returns the token's sub, a new string.
func (e *Entry) UserID() string { return uuid.UUID(e.s.user).String() }

// PackageID returns the token's action package, a string the cache shares.
func (e *Entry) PackageID() string { return e.pkg }

// ConversationID returns the conversation the token was minted in, a new
// string, or "" for none.
func (e *Entry) ConversationID() string {
	if e.s.pkg&hasConv == 0 {
		return ""
	}
	return uuid.UUID(e.s.conv).String()
}

// AppendJTI appends the token's jti to b.
func (e *Entry) AppendJTI(b []byte) []byte { return base64.RawURLEncoding.AppendEncode(b, e.s.jti[:]) }

// IssuedAt, NotBefore and ExpiresAt return the token's times, in UTC.
func (e *Entry) IssuedAt() time.Time  { return time.Unix(int64(e.s.iat), 0).UTC() }
func (e *Entry) NotBefore() time.Time { return time.Unix(int64(e.s.nbf), 0).UTC() }
func (e *Entry) ExpiresAt() time.Time { return time.Unix(int64(e.s.exp), 0).UTC() }

// Claims returns the token's claims, for the issuer iss.
func (e *Entry) Claims(iss string) *token.Claims {
	return &token.Claims{Issuer: iss, UserID: e.UserID(), ActionPackageID: e.pkg, ConversationID: e.ConversationID(),
		ID: base64.RawURLEncoding.EncodeToString(e.s.jti[:]), IssuedAt: e.IssuedAt(), NotBefore: e.NotBefore(),
		ExpiresAt: e.ExpiresAt()}
}

// pack fills s from cl; it is false for claims that would not come back
// the same (a token this issuer minted always packs).
func pack(s *slot, cl *token.Claims) bool {
	u, ok := guid(cl.UserID)
	if !ok {
		return false
	}
	s.user = u
	if cl.ConversationID != "" {
		if s.conv, ok = guid(cl.ConversationID); !ok {
			return false
		}
		s.pkg = hasConv
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(s.jti[:], []byte(cl.ID)); err != nil || n != 16 || len(cl.ID) != 22 {
		return false
	}
	for _, t := range []struct {
		at  time.Time
		out *uint32
	}{{cl.IssuedAt, &s.iat}, {cl.NotBefore, &s.nbf}, {cl.ExpiresAt, &s.exp}} {
		sec := t.at.Unix()
		if sec < 0 || sec > math.MaxUint32 || t.at.Nanosecond() != 0 {
			return false
		}
		*t.out = uint32(sec)
	}
	return cl.ActionPackageID != ""
}

// guid parses id, a GUID in canonical lower-case form.
func guid(id string) (uuid.UUID, bool) {
	u, err := uuid.Parse(id)
	return u, err == nil && len(id) == 36 && u.String() == id
}

// Add remembers the token whose hash is h and claims cl, taking the slot
// of the oldest token when the cache is full. It reports whether it did:
// claims that would not come back the same are not cached.
func (c *Cache) Add(h *[sha256.Size]byte, cl *token.Claims) bool {
	s := slot{hash: *h}
	if !pack(&s, cl) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pkgs[cl.ActionPackageID]
	if !ok {
		if len(c.pkgIDs) >= maxPackages {
			c.reset()
		}
		c.pkgIDs = append(c.pkgIDs, cl.ActionPackageID)
		p = uint32(len(c.pkgIDs))
		c.pkgs[cl.ActionPackageID] = p
	}
	s.pkg |= p
	k := indexKey(h)
	if i, ok := c.index[k]; ok && c.at(i).hash == *h {
		*c.at(i) = s // checked twice at once: one slot is enough
		return true
	}
	i := uint32(c.next)
	if int(i/chunkSlots) == len(c.chunks.list) {
		c.chunks.grow(min(chunkSlots, c.size-int(i)))
	}
	old := c.at(i)
	if old.pkg != 0 {
		if oldKey := indexKey(&old.hash); c.index[oldKey] == i {
			delete(c.index, oldKey)
		}
	}
	*old = s
	c.index[k] = i // a token whose hash starts the same is forgotten
	c.next = (c.next + 1) % c.size
	return true
}

// Remove forgets the token whose hash is h.
func (c *Cache) Remove(h *[sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := indexKey(h)
	if i, ok := c.index[k]; ok && c.at(i).hash == *h {
		*c.at(i) = slot{}
		delete(c.index, k)
	}
}

// reset forgets everything; c.mu is held.
func (c *Cache) reset() {
	c.index = map[uint64]uint32{}
	c.chunks.free()
	c.next = 0
	c.pkgs, c.pkgIDs = map[string]uint32{}, nil
}

// OffHeapBytes reports the memory the cache holds outside the Go heap
// (see chunks), which runtime.MemStats.HeapAlloc does not count.
func (c *Cache) OffHeapBytes() int {
	_, mapped := c.chunks.size()
	return mapped
}

// Len reports how many tokens the cache holds.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index)
}
