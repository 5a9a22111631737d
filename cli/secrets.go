package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/cardgate/cardgate/adapter/secret"
)

// maxSecret bounds a secret read from stdin.
const maxSecret = 64 << 10

func runSecrets(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "secrets", args, map[string]func(context.Context, *Env, []string) error{
		// The value comes from stdin, never a flag: flags end up in shell
		// history and in every process listing.
		"set": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "secrets set NAME  (value on stdin)", 1, nil, func(ctx context.Context, sys *system, pos []string, _ bool) error {
				b, err := io.ReadAll(io.LimitReader(env.Stdin, maxSecret+1))
				if err != nil {
					return fmt.Errorf("read the value from stdin: %w", err)
				}
				if len(b) > maxSecret {
					return fmt.Errorf("the value on stdin is larger than %d bytes", maxSecret)
				}
				b = bytes.TrimRight(b, "\r\n") // from echo or a here-string
				v := &secret.Vault{Store: sys.store, Key: sys.master}
				if err := v.Put(ctx, pos[0], b); err != nil {
					return err
				}
				// Running adapters read their store: secrets again every
				// watchInterval (adapter.Watch): no restart is needed.
				fmt.Fprintf(env.Stdout, "stored secret %s (%d bytes, sealed); refer to it as store:%s\n"+
					"a `cardgate adapter` running on this store uses the new value within 3 s, without a restart\n", pos[0], len(b), pos[0])
				return nil
			})
		},
		"list": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "secrets list", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				names, err := sys.store.SecretNames(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(names))
				}
				for _, n := range names {
					fmt.Fprintln(env.Stdout, n)
				}
				return nil
			})
		},
	})
}
