package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cardgate/cardgate"
)

// adminCmd parses a command's flags (plus --json), opens the system, and
// runs fn with the positional arguments.
func adminCmd(ctx context.Context, env *Env, args []string, usage string, npos int,
	setup func(fs flagSet), fn func(ctx context.Context, sys *system, pos []string, asJSON bool) error) error {
	fs := newFlags(env, usage, usage)
	resolve := configFlags(fs, env.Getenv, false)
	asJSON := fs.Bool("json", false, "print JSON")
	if setup != nil {
		setup(fs)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != npos {
		fs.Usage()
		return usagef("%s: want %d argument(s), got %d", usage, npos, len(pos))
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	sys, err := open(ctx, cfg, env, cfg.issuer(""), quietLogger(env))
	if err != nil {
		return err
	}
	defer sys.Close()
	return fn(ctx, sys, pos, *asJSON)
}

// flagSet is the part of *flag.FlagSet the setup functions use.
type flagSet interface {
	String(name, value, usage string) *string
}

func writeJSONLine(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func enabled(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

func runUsers(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "users", args, map[string]func(context.Context, *Env, []string) error{
		"add": func(ctx context.Context, env *Env, args []string) error {
			var id, name, phone, picture *string
			return adminCmd(ctx, env, args, "users add", 0, func(fs flagSet) {
				id = fs.String("id", "", "user id, a GUID (default: a new one)")
				name = fs.String("name", "", "display name (required)")
				phone = fs.String("phone", "", "phone number in E.164 form, like +14155550123 (required)")
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

func runPackages(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "packages", args, map[string]func(context.Context, *Env, []string) error{
		"add": func(ctx context.Context, env *Env, args []string) error {
			var id, name *string
			return adminCmd(ctx, env, args, "packages add", 0, func(fs flagSet) {
				id = fs.String("id", "", "package id in reverse-DNS form, like com.contoso.orders (required)")
				name = fs.String("name", "", "display name (required)")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				p := &cardgate.ActionPackage{ID: *id, DisplayName: *name}
				if err := sys.svc.CreatePackage(ctx, p); err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, p)
				}
				fmt.Fprintf(env.Stdout, "added package %s (%s)\n", p.ID, p.DisplayName)
				return nil
			})
		},
		"list": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "packages list", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				ps, err := sys.store.Packages(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(ps))
				}
				var rows [][]string
				for _, p := range ps {
					rows = append(rows, []string{p.ID, p.DisplayName, enabled(p.Disabled)})
				}
				table(env.Stdout, "ID\tNAME\tSTATE", rows)
				return nil
			})
		},
		"disable": setPackage(true),
		"enable":  setPackage(false),
	})
}

func setPackage(disabled bool) func(context.Context, *Env, []string) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	return func(ctx context.Context, env *Env, args []string) error {
		return adminCmd(ctx, env, args, "packages "+verb+" ID", 1, nil, func(ctx context.Context, sys *system, pos []string, _ bool) error {
			if err := sys.svc.SetPackageDisabled(ctx, pos[0], disabled); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "package %s %sd\n", pos[0], verb)
			return nil
		})
	}
}

// runHosts is "clients" for the host role, the one operators use most.
func runHosts(ctx context.Context, env *Env, args []string) error {
	return clientVerbs(ctx, env, "hosts", args, cardgate.RoleHost)
}

func runClients(ctx context.Context, env *Env, args []string) error {
	return clientVerbs(ctx, env, "clients", args, "")
}

func clientVerbs(ctx context.Context, env *Env, group string, args []string, fixed cardgate.Role) error {
	return subcommand(ctx, env, group, args, map[string]func(context.Context, *Env, []string) error{
		"add": func(ctx context.Context, env *Env, args []string) error {
			role := new(string)
			*role = string(fixed)
			return adminCmd(ctx, env, args, group+" add NAME", 1, func(fs flagSet) {
				if fixed == "" {
					role = fs.String("role", "", "host, resource-server or admin (required)")
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
		},
		"list": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, group+" list", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
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
		},
		"remove": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, group+" remove ID", 1, nil, func(ctx context.Context, sys *system, pos []string, _ bool) error {
				if err := sys.store.DeleteClient(ctx, pos[0]); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "removed client %s\n", pos[0])
				return nil
			})
		},
	})
}

func runToken(ctx context.Context, env *Env, args []string) error {
	var user, pkg *string
	err := adminCmd(ctx, env, args, "token", 0, func(fs flagSet) {
		user = fs.String("user", "", "user id (required)")
		pkg = fs.String("package", "", "action package id (required)")
	}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
		raw, c, err := sys.svc.Mint(ctx, *user, *pkg)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(env.Stdout, map[string]any{"token": raw, "expiresAt": c.ExpiresAt, "jti": c.ID})
		}
		fmt.Fprintln(env.Stdout, raw)
		return nil
	})
	if err == errHelp {
		return nil
	}
	return err
}

func runRevoke(ctx context.Context, env *Env, args []string) error {
	var jti, user, pkg *string
	err := adminCmd(ctx, env, args, "revoke", 0, func(fs flagSet) {
		jti = fs.String("jti", "", "revoke the token with this jti")
		user = fs.String("user", "", "revoke every token this user holds now")
		pkg = fs.String("package", "", "revoke every token of this action package, and disable it")
	}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
		var (
			r   *cardgate.Revocation
			err error
		)
		switch {
		case countSet(*jti, *user, *pkg) != 1:
			return usagef("revoke: give exactly one of --jti, --user, --package")
		case *jti != "":
			r, err = sys.svc.RevokeToken(ctx, *jti, time.Time{})
		case *user != "":
			r, err = sys.svc.RevokeUser(ctx, *user)
		default:
			r, err = sys.svc.RevokePackage(ctx, *pkg)
		}
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(env.Stdout, r)
		}
		fmt.Fprintf(env.Stdout, "revoked %s %s\n", r.Kind, r.Subject)
		return nil
	})
	if err == errHelp {
		return nil
	}
	return err
}

func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

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

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
