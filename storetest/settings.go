package storetest

import (
	"sync"
	"testing"

	"github.com/cardgate/cardgate"
)

// testSettings: a setting never set is ENOTFOUND; InitSetting stores only
// the first value, and of concurrent first values exactly one wins and
// every caller gets it; PutSetting replaces.
func testSettings(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	_, err := s.Setting(ctx, cardgate.SettingIssuerURL)
	wantCode(t, err, cardgate.ENOTFOUND)

	const n = 8
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.InitSetting(ctx, cardgate.SettingIssuerURL, "https://id"+string(rune('a'+i))+".example", t0)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	won, err := s.Setting(ctx, cardgate.SettingIssuerURL)
	mustOK(t, err)
	for i, v := range got {
		if v != won {
			t.Errorf("InitSetting %d got %q; the stored value is %q", i, v, won)
		}
	}
	if v, err := s.InitSetting(ctx, cardgate.SettingIssuerURL, "https://later.example", t0); err != nil || v != won {
		t.Errorf("InitSetting over a set value = %q, %v; want %q kept", v, err, won)
	}
	mustOK(t, s.PutSetting(ctx, cardgate.SettingIssuerURL, "https://id.example", t0))
	if v, err := s.Setting(ctx, cardgate.SettingIssuerURL); err != nil || v != "https://id.example" {
		t.Errorf("after PutSetting: %q, %v", v, err)
	}
	// Settings are independent of each other.
	if _, err := s.Setting(ctx, "other"); cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		t.Errorf("another setting: %v", err)
	}
}
