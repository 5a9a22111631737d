package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
)

// runHosts is "clients" for the host role, the one operators use most.
func runHosts(ctx context.Context, env *Env, args []string) error {
	return clientVerbs(ctx, env, "hosts", args, cardgate.RoleHost)
}

func runClients(ctx context.Context, env *Env, args []string) error {
	return clientVerbs(ctx, env, "clients", args, "")
}

func clientVerbs(ctx context.Context, env *Env, group string, args []string, fixed cardgate.Role) error {
	what, whats := "an API client", "the API clients of every role"
	if fixed != "" {
		what, whats = "a "+string(fixed)+" client", "the "+string(fixed)+" clients"
	}
	return subcommand(ctx, env, group, args, map[string]verb{
		"add": {"add " + what + " and print its API key, once", func(ctx context.Context, env *Env, args []string) error {
			role := new(string)
			*role = string(fixed)
			h := help{name: group + " add", args: "NAME", summary: "add " + what + " and print its API key, which is shown only this once",
				example: "cardgate hosts add web", fields: map[string]string{"name": "NAME", "role": "--role"}}
			if fixed == "" {
				h.required = []string{"role"}
				h.example = "cardgate clients add orders-api --role resource-server"
			}
			return adminCmd(ctx, env, args, h, storeFlags, 1, func(fs flagSet) {
				if fixed == "" {
					role = fs.String("role", "", "the client's `role`: host, resource-server or admin")
				}
			}, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				c, key, err := sys.svc.CreateClient(ctx, pos[0], cardgate.Role(*role))
				if err != nil {
					return err
				}
				fmt.Fprintln(env.Stderr, "Keep the API key now: it is stored only as a hash and cannot be shown again.")
				if asJSON {
					return printJSON(env.Stdout, struct {
						*cardgate.Client
						APIKey string `json:"apiKey"`
					}{c, key})
				}
				fmt.Fprintf(env.Stdout, "added %s client %s (%s)\napi key: %s\n", c.Role, c.ID, c.Name, key)
				return nil
			})
		}},
		"list": {"list " + whats, func(ctx context.Context, env *Env, args []string) error {
			h := help{name: group + " list", summary: "list " + whats + " (never their API keys)", example: "cardgate " + group + " list --json"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				cs, err := sys.store.Clients(ctx, fixed)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(cs))
				}
				var rows [][]string
				for _, c := range cs {
					rows = append(rows, []string{c.ID, c.Name, string(c.Role), c.CreatedAt.Format(time.RFC3339)})
				}
				table(env.Stdout, "ID\tNAME\tROLE\tCREATED", rows)
				return nil
			})
		}},
		"remove": {"remove " + what + ": its API key stops working", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: group + " remove", args: "ID", summary: "remove " + what + " by its id: its API key stops working at once",
				example: "cardgate " + group + " remove 0b7f3c52-8a41-4e0c-9d6a-5f2e1c3b7a90"}
			return adminCmd(ctx, env, args, h, storeFlags, 1, nil, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				if strings.HasPrefix(pos[0], cardgate.APIKeyPrefix) {
					// Not echoed: it is a secret, pasted by mistake.
					return cardgate.Errorf(cardgate.EINVALID, "id: that is an API key, not a client id; see %s list", group)
				}
				if fixed != "" {
					// "hosts remove" must not remove an admin by a mistyped id.
					if err := hasClient(ctx, sys, pos[0], fixed); err != nil {
						return err
					}
				}
				if err := sys.store.DeleteClient(ctx, pos[0]); err != nil {
					return fmt.Errorf("%s remove %s: %w", group, pos[0], err)
				}
				if asJSON {
					return printJSON(env.Stdout, map[string]any{"id": pos[0], "removed": true})
				}
				fmt.Fprintf(env.Stdout, "removed client %s\n", pos[0])
				return nil
			})
		}},
	})
}

// hasClient reports ENOTFOUND unless a client with this id has this role.
func hasClient(ctx context.Context, sys *system, id string, role cardgate.Role) error {
	cs, err := sys.store.Clients(ctx, role)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.ID == id {
			return nil
		}
	}
	return cardgate.Errorf(cardgate.ENOTFOUND, "id: no %s client %s", role, id)
}
