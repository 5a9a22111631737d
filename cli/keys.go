package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/cardgate/cardgate/keyring"
)

func runKeys(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "keys", args, map[string]verb{
		"rotate": {"make a new signing key", func(ctx context.Context, env *Env, args []string) error {
			var (
				delay *time.Duration
				now   *bool
			)
			h := help{name: "keys rotate", summary: "make a new signing key, published at once, that signs after --delay (or --now)",
				more:    "Older keys stay published until the tokens they signed expire.",
				example: "cardgate keys rotate\ncardgate keys rotate --now", fields: map[string]string{"delay": "--delay"}}
			return adminCmd(ctx, env, args, h, storeFlags, 0, func(fs flagSet) {
				delay = fs.Duration("delay", keyring.DefaultRotationDelay,
					"publish the new key now and let it sign after this long, so that every verifier knows it first")
				now = fs.Bool("now", false,
					"sign with the new key at once (a compromised key): verifiers that have not fetched it yet refuse its tokens until they do, up to 10 s for cardgate's verifiers")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				d := *delay
				if *now {
					d = 0
				}
				k, err := sys.svc.RotateKey(ctx, d)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, k)
				}
				if d == 0 {
					fmt.Fprintf(env.Stdout, "new signing key %s signs now; older keys stay published until their tokens expire\n", k.ID)
				} else {
					fmt.Fprintf(env.Stdout, "new key %s published; it signs from %s (in %v); older keys stay published until their tokens expire\n",
						k.ID, k.Activation().Format(time.RFC3339), d)
				}
				return nil
			})
		}},
		"list": {"list the signing keys and their states", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "keys list", summary: "list the signing keys, newest first, with when each signs or retired", example: "cardgate keys list"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				ks := sys.svc.Keys().Keys()
				if asJSON {
					return printJSON(env.Stdout, nonNil(ks))
				}
				now := time.Now()
				var rows [][]string
				for _, k := range ks {
					state := "retired " + k.RetiredAt.Format(time.RFC3339)
					switch {
					case k.SigningAt(now):
						state = "signing"
					case k.Pending(now):
						state = "published, signs from " + k.Activation().Format(time.RFC3339)
					case !k.RetiredAt.After(k.Activation()):
						state = "never signed, replaced " + k.RetiredAt.Format(time.RFC3339)
					}
					rows = append(rows, []string{k.ID, k.CreatedAt.Format(time.RFC3339), state})
				}
				table(env.Stdout, "KID\tCREATED\tSTATE", rows)
				return nil
			})
		}},
	})
}
