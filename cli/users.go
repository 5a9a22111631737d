package cli

import (
	"context"
	"fmt"

	"github.com/cardgate/cardgate"
)

func runUsers(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "users", args, map[string]func(context.Context, *Env, []string) error{
		"add": func(ctx context.Context, env *Env, args []string) error {
			var id, name, phone, picture *string
			return adminCmd(ctx, env, args, "users add", 0, func(fs flagSet) {
				id = fs.String("id", "", "user id, a GUID (default: a new one)")
				name = fs.String("name", "", "display name (required)")
				phone = fs.String("phone", "", "phone number in international form, like +14155550123; one no other user has (required)")
				picture = fs.String("picture", "", "profile picture URL")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				u := &cardgate.User{ID: *id, Name: *name, PhoneNumber: *phone, PictureURL: *picture}
				if err := sys.svc.CreateUser(ctx, u); err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, u)
				}
				fmt.Fprintf(env.Stdout, "added user %s (%s)\n", u.ID, u.Name)
				return nil
			})
		},
		"list": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "users list", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				us, err := sys.store.Users(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(us))
				}
				var rows [][]string
				for _, u := range us {
					rows = append(rows, []string{u.ID, u.Name, u.PhoneNumber, enabled(u.Disabled)})
				}
				table(env.Stdout, "ID\tNAME\tPHONE\tSTATE", rows)
				return nil
			})
		},
		"disable": setUser(true),
		"enable":  setUser(false),
	})
}

func setUser(disabled bool) func(context.Context, *Env, []string) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	return func(ctx context.Context, env *Env, args []string) error {
		return adminCmd(ctx, env, args, "users "+verb+" ID", 1, nil, func(ctx context.Context, sys *system, pos []string, _ bool) error {
			if err := sys.svc.SetUserDisabled(ctx, pos[0], disabled); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "user %s %sd\n", pos[0], verb)
			return nil
		})
	}
}
