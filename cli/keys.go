package cli

import (
	"context"
	"fmt"
	"time"
)

func runKeys(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "keys", args, map[string]func(context.Context, *Env, []string) error{
		"rotate": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "keys rotate", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				k, err := sys.svc.RotateKey(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, k)
				}
				fmt.Fprintf(env.Stdout, "new signing key %s; older keys stay published until their tokens expire\n", k.ID)
				return nil
			})
		},
		"list": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "keys list", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				ks := sys.svc.Keys().Keys()
				if asJSON {
					return printJSON(env.Stdout, nonNil(ks))
				}
				var rows [][]string
				for _, k := range ks {
					state := "signing"
					if !k.Active() {
						state = "retired " + k.RetiredAt.Format(time.RFC3339)
					}
					rows = append(rows, []string{k.ID, k.CreatedAt.Format(time.RFC3339), state})
				}
				table(env.Stdout, "KID\tCREATED\tSTATE", rows)
				return nil
			})
		},
	})
}
