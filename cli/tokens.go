package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
)

func runToken(ctx context.Context, env *Env, args []string) error {
	var user, pkg *string
	return adminCmd(ctx, env, args, "token", 0, func(fs flagSet) {
		user = fs.String("user", "", "user id (required)")
		pkg = fs.String("package", "", "action package id (required)")
	}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
		// A token carries the installation's issuer URL, which its issuer
		// recorded; a default would make tokens the issuer refuses.
		if !sys.issuerRecorded && !sys.issuerGiven {
			return fmt.Errorf("token: this installation has no issuer URL yet, and a token must carry the one its issuer checks: " +
				"start cardgate issuer once (it records its URL), or record it with cardgate init --issuer-url URL")
		}
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
}

func runRevoke(ctx context.Context, env *Env, args []string) error {
	var jti, user, pkg *string
	return adminCmd(ctx, env, args, "revoke", 0, func(fs flagSet) {
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
