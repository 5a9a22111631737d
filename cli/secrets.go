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
	return subcommand(ctx, env, "secrets", args, map[string]verb{
		// The value comes from stdin, never a flag: flags end up in shell
		// history and in every process listing.
		"set": {"store a secret read from stdin, sealed with the master key", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "secrets set", args: "NAME", summary: "store the value on stdin as a secret, sealed with the master key",
				more:    "The adapter's configuration refers to it as store:NAME. The value never comes\nfrom a flag, which would end up in shell history and process listings.",
				example: "printf %s \"$ORDERS_API_KEY\" | cardgate secrets set orders-api-key", fields: map[string]string{"name": "NAME"}}
			return adminCmd(ctx, env, args, h, storeFlags, 1, nil, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
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
				if asJSON {
					return printJSON(env.Stdout, map[string]any{"name": pos[0], "bytes": len(b), "ref": "store:" + pos[0]})
				}
				fmt.Fprintf(env.Stdout, "stored secret %s (%d bytes, sealed); refer to it as store:%s\n"+
					"a `cardgate adapter` running on this store uses the new value within 3 s, without a restart\n", pos[0], len(b), pos[0])
				return nil
			})
		}},
		"list": {"list the names of the stored secrets", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "secrets list", summary: "list the names of the stored secrets (never their values)", example: "cardgate secrets list"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				names, err := sys.store.SecretNames(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(names))
				}
				rows := make([][]string, len(names))
				for i, n := range names {
					rows[i] = []string{n, "store:" + n}
				}
				table(env.Stdout, "NAME\tREFER TO IT AS", rows)
				return nil
			})
		}},
	})
}
