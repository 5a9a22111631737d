package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cardgate/cardgate"
)

// demoKeysFile keeps the demo's API keys (mode 0600) so that a second run
// of the demo can print them again; keys are otherwise shown only once.
const demoKeysFile = "demo-keys.json"

// demoKeys are the API keys of the demo's clients. A part that needs a
// client of its own adds a field.
type demoKeys struct {
	Host  string `json:"host"`
	Admin string `json:"admin"`
}

// loadDemoKeys reads the keys a previous run saved; none when there was no
// previous run.
func loadDemoKeys(dir string) (demoKeys, error) {
	var keys demoKeys
	path := filepath.Join(dir, demoKeysFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return keys, nil
	} else if err != nil {
		return keys, fmt.Errorf("read demo keys: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&keys); err != nil {
		// The decoder's message may quote the file, keys and all.
		return keys, fmt.Errorf("%s is damaged: not the JSON the demo writes (run the demo with --reset)", path)
	}
	return keys, nil
}

// saveDemoKeys writes the keys, private to the user, replacing the file in
// one step so that a crash leaves the old file or the new one.
func saveDemoKeys(dir string, keys demoKeys) error {
	b, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, demoKeysFile+".*")
	if err != nil {
		return fmt.Errorf("save demo keys: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save demo keys: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save demo keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save demo keys: %w", err)
	}
	// CreateTemp makes the file 0600 already; say so for the reader.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("save demo keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, demoKeysFile)); err != nil {
		return fmt.Errorf("save demo keys: %w", err)
	}
	return nil
}

// ensureClient makes *key the API key of the demo client called name with
// the given role. A saved key that still belongs to that client is kept;
// otherwise (first run, or a client removed or a keys file lost since) any
// client of that name and role is replaced by a new one, so that reruns
// never pile up clients.
func ensureClient(ctx context.Context, sys *system, name string, role cardgate.Role, key *string) error {
	if *key != "" {
		c, err := sys.store.ClientByKeyHash(ctx, cardgate.HashAPIKey(*key))
		if err == nil && c.Name == name && c.Role == role {
			return nil
		}
		if err != nil && cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
			return fmt.Errorf("find client %q: %w", name, err)
		}
	}
	cs, err := sys.store.Clients(ctx, role)
	if err != nil {
		return fmt.Errorf("list %s clients: %w", role, err)
	}
	for _, c := range cs {
		if c.Name == name {
			if err := sys.store.DeleteClient(ctx, c.ID); err != nil {
				return fmt.Errorf("replace client %q: %w", name, err)
			}
		}
	}
	_, k, err := sys.svc.CreateClient(ctx, name, role)
	if err != nil {
		return fmt.Errorf("create client %q: %w", name, err)
	}
	*key = k
	return nil
}
