package claimcache

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/cardgate/cardgate/token"
)

const testIss = "https://id.example.com"

func get(c *Cache, h *[sha256.Size]byte) (*token.Claims, bool) {
	e, ok := c.Get(h)
	if !ok {
		return nil, false
	}
	return e.Claims(testIss), true
}

func testClaims(i int) *token.Claims {
	now := time.Unix(1_790_000_000, 0).UTC()
	var jti [16]byte
	binary.BigEndian.PutUint64(jti[:], uint64(i))
	return &token.Claims{Issuer: testIss, UserID: fmt.Sprintf("6f1c2a9e-3b7d-4c1e-9a5f-%012x", i),
		ActionPackageID: "com.contoso.orders", ID: fmt.Sprintf("jti%018dA", i),
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(30 * time.Minute)}
}

func testHash(i int) [sha256.Size]byte { return sha256.Sum256([]byte(fmt.Sprint("token ", i))) }

// The claims come back as they went in.
func TestRoundTrip(t *testing.T) {
	c := New(10)
	want := testClaims(7)
	h := testHash(7)
	c.Add(&h, want)
	got, ok := get(c, &h)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("get = %+v, %v; want %+v", got, ok, want)
	}
	other := testHash(8)
	if got, ok := get(c, &other); ok {
		t.Errorf("a token never added was found: %+v", got)
	}
	// A token minted in a conversation keeps it; one that was not gets
	// none, in the slot the first one had.
	c = New(1)
	inConv := testClaims(9)
	inConv.ConversationID = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"
	h = testHash(9)
	c.Add(&h, inConv)
	if got, ok := get(c, &h); !ok || !reflect.DeepEqual(got, inConv) {
		t.Fatalf("get = %+v, %v; want %+v", got, ok, inConv)
	}
	c.Add(&other, testClaims(8))
	if got, ok := get(c, &other); !ok || got.ConversationID != "" || got.ActionPackageID != "com.contoso.orders" {
		t.Errorf("get = %+v, %v; want no conversation", got, ok)
	}
}

// When the cache is full the oldest token leaves, and only it.
func TestOldestLeaves(t *testing.T) {
	const size = 5
	c := New(size)
	for i := range 3*size + 2 {
		h := testHash(i)
		c.Add(&h, testClaims(i))
		for j := range i + 1 {
			hj := testHash(j)
			_, ok := get(c, &hj)
			if want := j > i-size; ok != want {
				t.Fatalf("after adding %d tokens, token %d cached: %v, want %v", i+1, j, ok, want)
			}
		}
		if n := c.Len(); n != min(i+1, size) {
			t.Fatalf("after adding %d tokens, len = %d", i+1, n)
		}
	}
}

// Two tokens whose hashes share the 8 bytes of the index never answer
// for each other.
func TestSharedIndexKey(t *testing.T) {
	c := New(10)
	a, b := testHash(1), testHash(1)
	b[31] ^= 1
	c.Add(&a, testClaims(1))
	if _, ok := get(c, &b); ok {
		t.Fatal("a token was found under another token's hash")
	}
	c.Add(&b, testClaims(2))
	if got, ok := get(c, &b); !ok || got.ID != testClaims(2).ID {
		t.Errorf("get(b) = %+v, %v", got, ok)
	}
	if got, ok := get(c, &a); ok {
		t.Errorf("get(a) answered after b took its index: %+v", got)
	}
	c.Remove(&a) // not cached any more: removes nothing
	if _, ok := get(c, &b); !ok {
		t.Error("removing a removed b")
	}
	c.Remove(&b)
	if _, ok := get(c, &b); ok || c.Len() != 0 {
		t.Errorf("b still cached after remove, len %d", c.Len())
	}
}

// Claims that would not come back the same are not cached.
func TestSkipsWhatItCannotPack(t *testing.T) {
	for name, change := range map[string]func(*token.Claims){
		"upper-case user":         func(c *token.Claims) { c.UserID = "6F1C2A9E-3B7D-4C1E-9A5F-2D8E7B6C4A10" },
		"user not a GUID":         func(c *token.Claims) { c.UserID = "alice" },
		"short jti":               func(c *token.Claims) { c.ID = "abc" },
		"jti not base64url":       func(c *token.Claims) { c.ID = "!!!!!!!!!!!!!!!!!!!!!!" },
		"jti with pad bits":       func(c *token.Claims) { c.ID = "AAAAAAAAAAAAAAAAAAAAAB" },
		"fractional seconds":      func(c *token.Claims) { c.ExpiresAt = c.ExpiresAt.Add(time.Millisecond) },
		"before 1970":             func(c *token.Claims) { c.IssuedAt = time.Unix(-1, 0) },
		"after 2106":              func(c *token.Claims) { c.ExpiresAt = time.Unix(1<<32, 0) },
		"no package":              func(c *token.Claims) { c.ActionPackageID = "" },
		"conversation not a GUID": func(c *token.Claims) { c.ConversationID = "general" },
		"upper-case conversation": func(c *token.Claims) { c.ConversationID = "0B8F6C1E-2D4A-4F3B-8C9D-1E2F3A4B5C6D" },
	} {
		cl := testClaims(1)
		change(cl)
		c := New(10)
		h := testHash(1)
		c.Add(&h, cl)
		if got, ok := get(c, &h); ok {
			t.Errorf("%s: cached as %+v", name, got)
		}
	}
}

// Package IDs are kept once each, and at most maxPackages of them: the
// cache starts over rather than grow.
func TestPackagesBounded(t *testing.T) {
	c := New(2 * maxPackages)
	for i := range maxPackages + 1 {
		cl := testClaims(i)
		cl.ActionPackageID = fmt.Sprintf("com.example.p%d", i)
		h := testHash(i)
		c.Add(&h, cl)
	}
	if len(c.pkgIDs) > maxPackages || len(c.pkgs) != len(c.pkgIDs) {
		t.Fatalf("%d package IDs kept, want at most %d", len(c.pkgIDs), maxPackages)
	}
	last := testHash(maxPackages)
	if got, ok := get(c, &last); !ok || got.ActionPackageID != fmt.Sprintf("com.example.p%d", maxPackages) {
		t.Errorf("the token that started the cache over: %+v, %v", got, ok)
	}
	if n := c.Len(); n != 1 {
		t.Errorf("len = %d after starting over, want 1", n)
	}
	if n, _ := c.chunks.size(); n != 1 {
		t.Errorf("%d chunks after starting over, want 1: the others freed", n)
	}
}

// TestEntrySize measures what a full cache costs per token, beyond the 32
// bytes of the token's hash, with 100,000 distinct users: the figure
// docs/operating.md and --token-cache-size state. Most of it is outside
// the Go heap (OffHeapBytes), where the collector's headroom does not
// double it.
func TestEntrySize(t *testing.T) {
	const n = 100_000
	claims := make([]*token.Claims, n)
	hashes := make([][sha256.Size]byte, n)
	for i := range claims {
		claims[i], hashes[i] = testClaims(i), testHash(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := New(n)
	for i := range claims {
		c.Add(&hashes[i], claims[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(claims)
	runtime.KeepAlive(hashes)
	if c.Len() != n {
		t.Fatalf("len = %d, want %d", c.Len(), n)
	}
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	off := float64(c.OffHeapBytes()) / n
	per := heap + off - sha256.Size
	t.Logf("%.0f bytes per cached token beyond its hash: %.0f in the Go heap, %.0f outside", per, heap, off)
	if per > 100 {
		t.Errorf("%.0f bytes per cached token beyond its hash, want at most 100", per)
	}
	if runtime.GOOS == "linux" && off < 96 {
		t.Errorf("%.0f bytes per token outside the Go heap, want the 96-byte slots there", off)
	}
	runtime.KeepAlive(c)
}

// A cache that is no longer used gives its mapped memory back.
func TestChunksFreed(t *testing.T) {
	c := New(10 * chunkSlots)
	for i := range 5 * chunkSlots {
		h := testHash(i)
		c.Add(&h, testClaims(i))
	}
	ch := c.chunks
	if n, mapped := ch.size(); n != 5 || (runtime.GOOS == "linux" && mapped < 5*chunkSlots*96) {
		t.Fatalf("%d chunks, %d bytes mapped outside the heap; want 5 chunks, all mapped", n, mapped)
	}
	c = nil
	n, mapped := ch.size()
	for try := 0; try < 50 && n != 0; try++ { // the cleanup runs on its own goroutine
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		n, mapped = ch.size()
	}
	if n != 0 || mapped != 0 {
		t.Errorf("%d chunks, %d bytes still mapped after the cache was collected", n, mapped)
	}
}
