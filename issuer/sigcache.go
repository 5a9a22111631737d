package issuer

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

// sigCache remembers tokens whose signature checked out, keyed by the
// token's SHA-256, with their claims: a hit skips Ed25519. It holds at most
// size tokens; the oldest added leaves first (tokens all live as long, so
// the oldest are also the first to expire).
//
// An entry is a sigSlot, 80 bytes without a pointer, in chunks allocated
// as the cache fills, plus about 20 bytes of index: about 100 bytes a
// token where a general LRU of strings took 270 (TestCheckCacheEntrySize).
// The garbage collector never scans it. Package IDs, which are few, are
// kept once each; user IDs (GUIDs) and jtis in their 16 bytes.
type sigCache struct {
	mu     sync.RWMutex
	size   int
	index  map[uint64]uint32 // the hash's first 8 bytes → slot
	chunks [][]sigSlot       // slot i is chunks[i/chunkSlots][i%chunkSlots]
	next   int               // the slot the next Add takes
	pkgs   map[string]uint32 // package ID → its number in pkgIDs, from 1
	pkgIDs []string
}

// chunkSlots is how many slots are allocated at a time (80 KiB).
const chunkSlots = 1024

// maxPackages bounds the package IDs kept: when a new one would be the
// one more, the whole cache starts over. An installation has a few cards.
const maxPackages = 4096

// sigSlot is one token. pkg 0 marks a free slot.
type sigSlot struct {
	hash          [sha256.Size]byte
	user, jti     [16]byte
	pkg           uint32
	iat, nbf, exp uint32 // Unix seconds
}

func newSigCache(size int) *sigCache {
	return &sigCache{size: size, index: map[uint64]uint32{}, pkgs: map[string]uint32{}}
}

func indexKey(h *[sha256.Size]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

func (c *sigCache) slot(i uint32) *sigSlot { return &c.chunks[i/chunkSlots][i%chunkSlots] }

// get returns the claims of the token whose hash is h, for the issuer iss.
func (c *sigCache) get(h *[sha256.Size]byte, iss string) (*token.Claims, bool) {
	c.mu.RLock()
	i, ok := c.index[indexKey(h)]
	var s sigSlot
	var pkg string
	if ok {
		s = *c.slot(i)
		ok = s.hash == *h && s.pkg != 0
		if ok {
			pkg = c.pkgIDs[s.pkg-1]
		}
	}
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return &token.Claims{Issuer: iss, UserID: uuid.UUID(s.user).String(), ActionPackageID: pkg,
		ID:       base64.RawURLEncoding.EncodeToString(s.jti[:]),
		IssuedAt: time.Unix(int64(s.iat), 0).UTC(), NotBefore: time.Unix(int64(s.nbf), 0).UTC(),
		ExpiresAt: time.Unix(int64(s.exp), 0).UTC()}, true
}

// pack fills s from cl; it is false for claims that would not come back
// the same (a token this issuer minted always packs).
func pack(s *sigSlot, cl *token.Claims) bool {
	u, err := uuid.Parse(cl.UserID)
	if err != nil || len(cl.UserID) != 36 || u.String() != cl.UserID {
		return false
	}
	s.user = u
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

// add remembers the token whose hash is h and claims cl, taking the slot
// of the oldest token when the cache is full.
func (c *sigCache) add(h *[sha256.Size]byte, cl *token.Claims) {
	s := sigSlot{hash: *h}
	if !pack(&s, cl) {
		return
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
	s.pkg = p
	k := indexKey(h)
	if i, ok := c.index[k]; ok && c.slot(i).hash == *h {
		*c.slot(i) = s // checked twice at once: one slot is enough
		return
	}
	i := uint32(c.next)
	if int(i/chunkSlots) == len(c.chunks) {
		c.chunks = append(c.chunks, make([]sigSlot, min(chunkSlots, c.size-int(i))))
	}
	old := c.slot(i)
	if old.pkg != 0 {
		if oldKey := indexKey(&old.hash); c.index[oldKey] == i {
			delete(c.index, oldKey)
		}
	}
	*old = s
	c.index[k] = i // a token whose hash starts the same is forgotten
	c.next = (c.next + 1) % c.size
}

// remove forgets the token whose hash is h.
func (c *sigCache) remove(h *[sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := indexKey(h)
	if i, ok := c.index[k]; ok && c.slot(i).hash == *h {
		*c.slot(i) = sigSlot{}
		delete(c.index, k)
	}
}

// reset forgets everything; c.mu is held.
func (c *sigCache) reset() {
	c.index = map[uint64]uint32{}
	c.chunks, c.next = nil, 0
	c.pkgs, c.pkgIDs = map[string]uint32{}, nil
}

func (c *sigCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index)
}
