package token

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
)

// An installation recognises the ids it minted, and no others: not another
// installation's, not random ones, not one with a bit changed.
func TestIDsRecogniseTheirOwn(t *testing.T) {
	mine, theirs := NewIDs([]byte("key of this installation, 32 b!")), NewIDs([]byte("key of another installation, 32b"))
	seen := map[string]bool{}
	for range 1000 {
		id := mine.New()
		if !ValidJTI(id) || !mine.Minted(id) {
			t.Fatalf("%q: valid %v, minted %v", id, ValidJTI(id), mine.Minted(id))
		}
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
	}
	foreign, random := 0, 0
	for range 1000 {
		if mine.Minted(theirs.New()) {
			foreign++
		}
		if mine.Minted((*IDs)(nil).New()) {
			random++
		}
	}
	// One chance in 2³² each: any hit here is a broken tag.
	if foreign != 0 || random != 0 {
		t.Errorf("recognised %d foreign and %d random ids of 1000", foreign, random)
	}
	id := mine.New()
	raw, _ := base64.RawURLEncoding.DecodeString(id)
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x10
		if c := base64.RawURLEncoding.EncodeToString(b); mine.Minted(c) {
			t.Errorf("%q with a bit of byte %d changed is still recognised", c, i)
		}
	}
	for _, bad := range []string{"", "x", id + "=", strings.ToUpper(id) + "!", id[:21]} {
		if mine.Minted(bad) {
			t.Errorf("Minted(%q)", bad)
		}
	}
	if (*IDs)(nil).Minted(id) {
		t.Error("no key recognises ids")
	}
}

// Ids minted on many goroutines at once are recognised by another IDs
// with the same key, as after a restart or on another node.
func TestIDsConcurrentAndAcrossInstances(t *testing.T) {
	key := []byte("key of this installation, 32 b!")
	minter, checker := NewIDs(key), NewIDs(key)
	var wg sync.WaitGroup
	ids := make([][]string, 8)
	for g := range ids {
		wg.Go(func() {
			for range 200 {
				id := minter.New()
				if !minter.Minted(id) {
					t.Errorf("%q not recognised by its minter", id)
				}
				ids[g] = append(ids[g], id)
			}
		})
	}
	wg.Wait()
	for _, batch := range ids {
		for _, id := range batch {
			if !checker.Minted(id) {
				t.Fatalf("%q not recognised by another IDs with the same key", id)
			}
		}
	}
}
