package cli

import (
	"context"
	"fmt"

	"github.com/cardgate/cardgate"
)

// userFields are the API field names of a user and the flags that set them.
var userFields = map[string]string{"id": "--id", "name": "--name", "phoneNumber": "--phone", "pictureUrl": "--picture"}

func runUsers(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "users", args, map[string]verb{
		"add": {"add a user who signs in with their phone number", func(ctx context.Context, env *Env, args []string) error {
			var id, name, phone, picture *string
			h := help{name: "users add", summary: "add a user who signs in with their phone number",
				example:  `cardgate users add --name "Alice Example" --phone +14155550123`,
				required: []string{"name", "phone"}, fields: userFields}
			return adminCmd(ctx, env, args, h, storeFlags, 0, func(fs flagSet) {
				id = fs.String("id", "", "user id, a lower-case GUID (default: a new one)")
				name = fs.String("name", "", "display `name`")
				phone = fs.String("phone", "", "phone `number` in international (E.164) form, like +14155550123; one no other user has")
				picture = fs.String("picture", "", "profile picture `URL`")
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
		}},
		"list": {"list the users", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "users list", summary: "list the users", example: "cardgate users list --json"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
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
		}},
		"disable": {"disable a user, revoking every token they hold", setUser(true)},
		"enable":  {"enable a disabled user again", setUser(false)},
	})
}

func setUser(disabled bool) func(context.Context, *Env, []string) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	summary := map[bool]string{true: "disable a user: they cannot sign in, and every token they hold is revoked",
		false: "enable a disabled user again"}[disabled]
	return func(ctx context.Context, env *Env, args []string) error {
		h := help{name: "users " + verb, args: "ID", summary: summary,
			example: "cardgate users " + verb + " 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", fields: map[string]string{"id": "ID"}}
		return adminCmd(ctx, env, args, h, storeFlags, 1, nil, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
			if err := sys.svc.SetUserDisabled(ctx, pos[0], disabled); err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.Stdout, map[string]any{"id": pos[0], "disabled": disabled})
			}
			fmt.Fprintf(env.Stdout, "user %s %sd\n", pos[0], verb)
			return nil
		})
	}
}
