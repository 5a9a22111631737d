package cli

import (
	"context"
	"fmt"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
)

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
		"import": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "packages import DIR|ZIP", 1, nil, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				pkg, err := actionpkg.Load(pos[0], actionpkg.DefaultLimits)
				if err != nil {
					return err
				}
				p, err := sys.svc.ImportPackage(ctx, pkg)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, p)
				}
				fmt.Fprintf(env.Stdout, "imported package %s (%s) version %s, %d files\n", p.ID, p.DisplayName, pkg.Manifest.Version, len(pkg.Files))
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
