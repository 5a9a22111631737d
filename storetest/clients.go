package storetest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testClients(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	if all, err := s.Clients(ctx, ""); err != nil || len(all) != 0 {
		t.Fatalf("Clients on an empty store = %d, %v; want none", len(all), err)
	}
	mk := func(id, name string, role cardgate.Role, at time.Time) *cardgate.Client {
		_, hash := cardgate.NewAPIKey()
		return &cardgate.Client{ID: id, Name: name, Role: role, KeyHash: hash, CreatedAt: at}
	}
	clients := []*cardgate.Client{
		mk("c-host-1", "web host", cardgate.RoleHost, t0),
		mk("c-host-2", "mobile host", cardgate.RoleHost, t0.Add(time.Second)),
		mk("c-admin", "ops", cardgate.RoleAdmin, t0.Add(2*time.Second)),
	}
	for _, c := range clients {
		mustOK(t, s.CreateClient(ctx, c))
	}
	for _, c := range clients {
		got, err := s.ClientByKeyHash(ctx, c.KeyHash)
		mustOK(t, err)
		equalClient(t, got, c)
	}

	byRole := []struct {
		role cardgate.Role
		want string
	}{
		{cardgate.RoleHost, "c-host-1 c-host-2"},
		{cardgate.RoleAdmin, "c-admin"},
		{cardgate.RoleResourceServer, ""},
		{"", "c-admin c-host-1 c-host-2"},
	}
	for _, tt := range byRole {
		t.Run("Clients("+string(tt.role)+")", func(t *testing.T) {
			got, err := s.Clients(ctx, tt.role)
			mustOK(t, err)
			if ids := ids(got, func(c *cardgate.Client) string { return c.ID }); ids != tt.want {
				t.Fatalf("Clients(%q) = [%s], want [%s]", tt.role, ids, tt.want)
			}
			for _, c := range got {
				if c.Role != tt.role && tt.role != "" {
					t.Errorf("Clients(%q) returned %s with role %q", tt.role, c.ID, c.Role)
				}
			}
		})
	}

	t.Run("DeleteClient", func(t *testing.T) {
		gone := clients[0]
		mustOK(t, s.DeleteClient(ctx, gone.ID))
		wantCode(t, s.DeleteClient(ctx, gone.ID), cardgate.ENOTFOUND)
		_, err := s.ClientByKeyHash(ctx, gone.KeyHash)
		wantCode(t, err, cardgate.ENOTFOUND)
		hosts, err := s.Clients(ctx, cardgate.RoleHost)
		mustOK(t, err)
		if len(hosts) != 1 || hosts[0].ID != "c-host-2" {
			t.Fatalf("hosts after delete = [%s], want [c-host-2]", ids(hosts, func(c *cardgate.Client) string { return c.ID }))
		}
		// The ID and the key hash are free again.
		again := mk(gone.ID, "web host again", cardgate.RoleHost, t0.Add(time.Minute))
		again.KeyHash = gone.KeyHash
		mustOK(t, s.CreateClient(ctx, again))
		got, err := s.ClientByKeyHash(ctx, gone.KeyHash)
		mustOK(t, err)
		equalClient(t, got, again)
	})
}

// signingKey returns a key with a real public key and random sealed bytes.
// The sealed bytes start with a NUL, 0xff and a quote, which a store that
// treated them as text would mangle.
func signingKey(id string, at time.Time) *cardgate.SigningKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	sealed := make([]byte, 92)
	rand.Read(sealed)
	sealed[0], sealed[1], sealed[2] = 0, 0xff, '\''
	return &cardgate.SigningKey{ID: id, PublicKey: pub, SealedPrivateKey: sealed, CreatedAt: at}
}

func testSigningKeys(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %d, %v; want none", len(keys), err)
	}
	k1, k2, k3 := signingKey("k1", t0), signingKey("k2", t0.Add(time.Hour)), signingKey("k3", t0.Add(48*time.Hour))
	// k4 is published ahead of use; k5, an immediate rotation made while
	// k4 waits, retires k3 at once and k4 before it ever signs.
	k4 := signingKey("k4", t0.Add(49*time.Hour))
	k4.ActivatesAt = k4.CreatedAt.Add(5 * time.Minute)
	k5 := signingKey("k5", t0.Add(49*time.Hour+time.Minute))
	k6 := signingKey("k6", t0.Add(50*time.Hour))
	k6.ActivatesAt = k6.CreatedAt.Add(5 * time.Minute)
	steps := []struct {
		add  *cardgate.SigningKey
		want []*cardgate.SigningKey // newest first, with RetiredAt as expected
		// signing is the key that signs at the time named, none before k1.
		at      time.Time
		signing string
	}{
		{k1, []*cardgate.SigningKey{k1}, t0, "k1"},
		{k2, []*cardgate.SigningKey{k2, retired(k1, k2.CreatedAt)}, k2.CreatedAt, "k2"},
		// k1 stays retired at k2's time, not k3's.
		{k3, []*cardgate.SigningKey{k3, retired(k2, k3.CreatedAt), retired(k1, k2.CreatedAt)}, k3.CreatedAt, "k3"},
		// Until k4 activates, k3 signs and k4 is only published.
		{k4, []*cardgate.SigningKey{k4, retired(k3, k4.ActivatesAt), retired(k2, k3.CreatedAt), retired(k1, k2.CreatedAt)}, k4.CreatedAt, "k3"},
		{k5, []*cardgate.SigningKey{k5, retired(k4, k5.CreatedAt), retired(k3, k5.CreatedAt), retired(k2, k3.CreatedAt), retired(k1, k2.CreatedAt)},
			k4.ActivatesAt, "k5"},
		{k6, []*cardgate.SigningKey{k6, retired(k5, k6.ActivatesAt), retired(k4, k5.CreatedAt), retired(k3, k5.CreatedAt), retired(k2, k3.CreatedAt), retired(k1, k2.CreatedAt)},
			k6.ActivatesAt, "k6"},
	}
	for _, st := range steps {
		t.Run("add "+st.add.ID, func(t *testing.T) {
			mustOK(t, s.AddSigningKey(ctx, st.add))
			got, err := s.SigningKeys(ctx)
			mustOK(t, err)
			if len(got) != len(st.want) {
				t.Fatalf("%d keys, want %d", len(got), len(st.want))
			}
			for i, want := range st.want {
				equalKey(t, got[i], want)
			}
			var signing []string
			for _, k := range got {
				if k.SigningAt(st.at) {
					signing = append(signing, k.ID)
				}
			}
			if len(signing) != 1 || signing[0] != st.signing {
				t.Errorf("keys signing at %v: %v, want just %s", st.at, signing, st.signing)
			}
		})
	}
	// k4 was superseded before it signed: it never signs, at any time.
	got, err := s.SigningKeys(ctx)
	mustOK(t, err)
	for _, k := range got {
		if k.ID == "k4" && (k.SigningAt(k4.ActivatesAt) || k.SigningAt(k5.CreatedAt)) {
			t.Error("a key superseded before its activation signs")
		}
	}
}

func retired(k *cardgate.SigningKey, at time.Time) *cardgate.SigningKey {
	c := *k
	c.RetiredAt = at
	return &c
}

func equalKey(t *testing.T, got, want *cardgate.SigningKey) {
	t.Helper()
	if got.ID != want.ID || !bytes.Equal(got.PublicKey, want.PublicKey) ||
		!bytes.Equal(got.SealedPrivateKey, want.SealedPrivateKey) ||
		!sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.RetiredAt, want.RetiredAt) ||
		!sameTime(got.Activation(), want.Activation()) {
		t.Fatalf("key =\n\t%+v\nwant\n\t%+v", got, want)
	}
	if len(got.PublicKey) != ed25519.PublicKeySize {
		t.Fatalf("public key of %d bytes", len(got.PublicKey))
	}
}
