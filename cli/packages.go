package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/issuer"
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
			var replace *bool
			return adminCmd(ctx, env, args, "packages import DIR|ZIP", 1, func(fs flagSet) {
				replace = fs.Bool("replace", false, "replace the package if its id is already imported (its record, state and revocations are kept)")
			}, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				pkg, err := actionpkg.Load(pos[0], actionpkg.DefaultLimits)
				if err != nil {
					return err
				}
				imp, err := sys.svc.Import(ctx, pkg, *replace)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, importReport{imp, pkg.Manifest.EntryPage(), pkg.Folder, pkg.Skipped, orEmpty(pkg.Warnings)})
				}
				printImport(env, imp, pkg)
				return nil
			})
		},
		"list": func(ctx context.Context, env *Env, args []string) error {
			var cardsURL *string
			return adminCmd(ctx, env, args, "packages list", 0, func(fs flagSet) {
				cardsURL = fs.String("cards-url", "", "the cards origin's public `URL`: also print each card's origin, for the adapter's cors.origins (env CARDGATE_CARDS_URL)")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				var origins *cards.Origins
				if u := flagOrEnv(*cardsURL, env, "CARDGATE_CARDS_URL", ""); u != "" {
					o, err := cards.ParseOrigins(u)
					if err != nil {
						return fmt.Errorf("cards-url: %w", err)
					}
					origins = &o
				}
				ps, err := sys.store.Packages(ctx)
				if err != nil {
					return err
				}
				type listed struct {
					*cardgate.ActionPackage
					CardOrigin string `json:"cardOrigin,omitempty"`
				}
				out := make([]listed, len(ps))
				for i, p := range ps {
					out[i].ActionPackage = p
					if origins != nil {
						out[i].CardOrigin = origins.For(p.ID)
					}
				}
				if asJSON {
					return printJSON(env.Stdout, out)
				}
				var rows [][]string
				for _, p := range out {
					row := []string{p.ID, p.DisplayName, enabled(p.Disabled)}
					if origins != nil {
						row = append(row, p.CardOrigin)
					}
					rows = append(rows, row)
				}
				head := "ID\tNAME\tSTATE"
				if origins != nil {
					head += "\tCARD ORIGIN"
				}
				table(env.Stdout, head, rows)
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

// importReport is `packages import --json`.
type importReport struct {
	*issuer.Imported
	EntryPage string              `json:"entryPage"`
	Folder    string              `json:"folder,omitempty"`
	Skipped   []string            `json:"skipped,omitempty"`
	Warnings  []actionpkg.Problem `json:"warnings"`
}

func orEmpty(p []actionpkg.Problem) []actionpkg.Problem {
	if p == nil {
		return []actionpkg.Problem{}
	}
	return p
}

// printImport says what an import skipped, warned of, and replaced.
func printImport(env *Env, imp *issuer.Imported, pkg *actionpkg.Package) {
	if len(pkg.Skipped) > 0 {
		var listed []string
		macos := 0
		for _, s := range pkg.Skipped {
			if strings.HasPrefix(s, "__MACOSX/") {
				macos++
			} else {
				listed = append(listed, s)
			}
		}
		if macos > 0 {
			listed = append([]string{fmt.Sprintf("__MACOSX/ (%d entries)", macos)}, listed...)
		}
		fmt.Fprintf(env.Stdout, "skipped %d entries a zip tool or desktop adds: %s\n", len(pkg.Skipped), strings.Join(listed, ", "))
	}
	if pkg.Folder != "" {
		fmt.Fprintf(env.Stdout, "read the package from its folder %q\n", pkg.Folder+"/")
	}
	for _, w := range pkg.Warnings {
		fmt.Fprintf(env.Stderr, "warning: package.json: %s\n", w)
	}
	p := imp.Package
	fmt.Fprintf(env.Stdout, "imported package %s (%s) version %s, %d files; it opens at %s\n",
		p.ID, pkg.Manifest.DisplayName, imp.Version, imp.Files, pkg.Manifest.EntryPage())
	if r := imp.Replaced; r != nil {
		fmt.Fprintf(env.Stdout, "replaced version %s (%d files) with version %s (%d files)\n", r.Version, r.Files, imp.Version, imp.Files)
	}
}
