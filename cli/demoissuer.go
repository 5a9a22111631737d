package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/cardgate/cardgate"
)

// The demo's fixed cast, so that its walkthrough and tests can name them.
const (
	DemoAlice  = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	DemoBob    = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	DemoOrders = "com.contoso.orders"
	DemoSurvey = "com.contoso.survey"
	// DemoTeam is the demo's conversation, "Contoso team": Alice (its
	// admin) and Bob. Every installed card can be sent to it.
	DemoTeam = "3c1f7a52-9d4e-4b8a-8e21-6f0d2c9b7a13"
)

// The names of the demo's clients; reruns find them by these.
const (
	demoHostName  = "demo host"
	demoAdminName = "demo admin"
)

func demoUsers() []*cardgate.User {
	return []*cardgate.User{
		{ID: DemoAlice, Name: "Alice Ahmed", PhoneNumber: "+14155550101", PictureURL: "https://pictures.example/alice.png"},
		{ID: DemoBob, Name: "Bob Barros", PhoneNumber: "+14155550102"},
	}
}

func demoPackages() []*cardgate.ActionPackage {
	return []*cardgate.ActionPackage{
		{ID: DemoOrders, DisplayName: "Order products"},
		{ID: DemoSurvey, DisplayName: "Survey"},
	}
}

// seedIssuer makes the demo's users, packages and clients. Existing ones
// are kept, and enabled again if someone disabled them while trying the
// demo out, so that every run's walkthrough works.
func seedIssuer(ctx context.Context, d *demo) error {
	svc := d.sys.svc
	for _, u := range demoUsers() {
		err := svc.CreateUser(ctx, u)
		if cardgate.ErrorCode(err) == cardgate.ECONFLICT {
			var had *cardgate.User
			if had, err = d.sys.store.User(ctx, u.ID); err == nil && had.Disabled {
				err = svc.SetUserDisabled(ctx, u.ID, false)
			}
		}
		if err != nil {
			return fmt.Errorf("user %s: %w", u.ID, err)
		}
	}
	for _, p := range demoPackages() {
		err := svc.CreatePackage(ctx, p)
		if cardgate.ErrorCode(err) == cardgate.ECONFLICT {
			var had *cardgate.ActionPackage
			if had, err = d.sys.store.Package(ctx, p.ID); err == nil && had.Disabled {
				err = svc.SetPackageDisabled(ctx, p.ID, false)
			}
		}
		if err != nil {
			return fmt.Errorf("package %s: %w", p.ID, err)
		}
	}
	if err := seedTeam(ctx, d); err != nil {
		return err
	}
	if err := ensureClient(ctx, d.sys, demoHostName, cardgate.RoleHost, &d.keys.Host); err != nil {
		return err
	}
	return ensureClient(ctx, d.sys, demoAdminName, cardgate.RoleAdmin, &d.keys.Admin)
}

// seedTeam makes the demo's conversation, and puts Alice and Bob back in
// it with their roles if someone changed them while trying the demo out.
func seedTeam(ctx context.Context, d *demo) error {
	err := d.sys.svc.CreateConversation(ctx, &cardgate.Conversation{ID: DemoTeam, Title: "Contoso team"})
	if err != nil && cardgate.ErrorCode(err) != cardgate.ECONFLICT {
		return fmt.Errorf("conversation %s: %w", DemoTeam, err)
	}
	for user, role := range map[string]cardgate.MemberRole{DemoAlice: cardgate.MemberAdmin, DemoBob: cardgate.MemberMember} {
		if _, err := d.sys.svc.PutMember(ctx, DemoTeam, user, role); err != nil {
			return fmt.Errorf("conversation %s: member %s: %w", DemoTeam, user, err)
		}
	}
	return nil
}

// walkIssuer prints the Integration Service's walkthrough. Each command
// block is indented by two spaces and runs as printed in a POSIX shell
// (the tests run them).
func walkIssuer(w io.Writer, d *demo) {
	fmt.Fprintf(w, `
Seeded: users Alice (%[3]s) and Bob (%[4]s), both in the conversation
"Contoso team" (%[9]s), where every card can be sent;
action packages %[5]s ("Order products") and %[6]s ("Survey");
a chat host and an admin client. Their API keys (demo only; kept in %[8]s):

  HOST_KEY=%[2]s
  ADMIN_KEY=%[7]s

1. Mint a token, as a chat host does for Alice inside the "Order products" card:

  TOKEN=$(curl -s -X POST %[1]s/v1/tokens \
    -H "Authorization: Bearer $HOST_KEY" -H "Content-Type: application/json" \
    -d '{"userId":"%[3]s","actionPackageId":"%[5]s"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')

2. Validate it, as the card's service does, with Kaizala's accessToken header:

  curl -s %[1]s/v1/users/me -H "accessToken: $TOKEN"

3. Revoke Alice's tokens as the admin, and ask again (401):

  curl -s -X POST %[1]s/v1/revocations -H "Authorization: Bearer $ADMIN_KEY" \
    -H "Content-Type: application/json" -d '{"userId":"%[3]s"}'
  curl -s %[1]s/v1/users/me -H "accessToken: $TOKEN"

Public keys for offline checks: %[1]s/.well-known/jwks.json
`, d.base, d.keys.Host, DemoAlice, DemoBob, DemoOrders, DemoSurvey, d.keys.Admin, demoKeysFile, DemoTeam)
}
