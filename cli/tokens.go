package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
)

// tokenFields are the API field names of a token's subject and the flags
// that name them.
var tokenFields = map[string]string{"userId": "--user", "actionPackageId": "--package", "jti": "--jti", "id": "--package"}

func runToken(ctx context.Context, env *Env, args []string) error {
	var user, pkg *string
	h := help{name: "token", summary: "print a fresh token for a user and an action package, for testing",
		example:  "cardgate token --user 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10 --package com.contoso.orders",
		required: []string{"user", "package"}, fields: tokenFields}
	return adminCmd(ctx, env, args, h, mintFlags, 0, func(fs flagSet) {
		user = fs.String("user", "", "user `id`")
		pkg = fs.String("package", "", "action package `id`")
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

// maxTokenLife is how long a revocation of a single token is kept: the
// longest lifetime any issuer may give a token (Config.validate) plus an
// hour for clock skew. The CLI does not know the running issuer's
// --token-lifetime, and a revocation dropped before its token expires
// would bring the token back.
const maxTokenLife = 24*time.Hour + time.Hour

func runRevoke(ctx context.Context, env *Env, args []string) error {
	var jti, user, pkg *string
	h := help{name: "revoke", summary: "revoke one token, every token a user holds now, or every token of an action package",
		more: "Give exactly one of --jti, --user, --package. Servers see a revocation within\n" +
			"a second; verifiers that follow the revocation feed, within their poll interval.",
		example: "cardgate revoke --user 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10\ncardgate revoke --jti 3q2-7wQz1xYc0Yl0b9Vb7A",
		fields:  tokenFields}
	return adminCmd(ctx, env, args, h, storeFlags, 0, func(fs flagSet) {
		jti = fs.String("jti", "", "revoke the token with this `id` (its jti claim, as token --json prints it)")
		user = fs.String("user", "", "revoke every token this user (`id`) holds now")
		pkg = fs.String("package", "", "revoke every token of this action package (`id`), and disable it")
	}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
		var (
			r   *cardgate.Revocation
			err error
		)
		switch {
		case countSet(*jti, *user, *pkg) != 1:
			return usagef("revoke: give exactly one of --jti, --user, --package")
		case *jti != "":
			r, err = sys.svc.RevokeToken(ctx, *jti, time.Now().Add(maxTokenLife))
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
