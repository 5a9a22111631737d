package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

const bob = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"

// TestConversationCommands: conversations are added and listed, members
// added with a role, their role changed, listed and removed, with errors
// that name the argument or flag that is wrong.
func TestConversationCommands(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "users", "add", "--id", bob, "--name", "Bob", "--phone", "+14155550102")

	var conv struct{ ID, Title string }
	if err := json.Unmarshal([]byte(mustRun(t, env, "conversations", "add", "--title", " Field team ", "--json")), &conv); err != nil {
		t.Fatal(err)
	}
	if len(conv.ID) != 36 || conv.Title != "Field team" {
		t.Fatalf("conversations add --json = %+v", conv)
	}
	out := mustRun(t, env, "conversations", "members", "add", "--role", "admin", conv.ID, alice)
	if out != "user "+alice+" is an admin of conversation "+conv.ID+"\n" {
		t.Errorf("members add said %q", out)
	}
	mustRun(t, env, "conversations", "members", "add", conv.ID, bob)
	out = mustRun(t, env, "conversations", "members", "list", conv.ID)
	if !strings.Contains(out, alice+"  Alice  admin") || !strings.Contains(out, bob+"  Bob    member") {
		t.Errorf("members list:\n%s", out)
	}
	mustRun(t, env, "conversations", "members", "add", "--role", "admin", conv.ID, bob) // a role changes in place
	var ms []struct{ UserID, Role string }
	json.Unmarshal([]byte(mustRun(t, env, "conversations", "members", "list", "--json", conv.ID)), &ms)
	if len(ms) != 2 || ms[0].Role != "admin" || ms[1].Role != "admin" {
		t.Errorf("members after the role change: %+v", ms)
	}
	if out := mustRun(t, env, "conversations", "list"); !strings.Contains(out, conv.ID+"  Field team  2") {
		t.Errorf("conversations list:\n%s", out)
	}
	if out := mustRun(t, env, "conversations", "members", "remove", conv.ID, bob); out != "removed user "+bob+" from conversation "+conv.ID+"\n" {
		t.Errorf("members remove said %q", out)
	}
	if out := mustRun(t, env, "conversations", "list"); !strings.Contains(out, conv.ID+"  Field team  1") {
		t.Errorf("conversations list after the removal:\n%s", out)
	}
	var cs []struct {
		ID      string
		Members int
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, "conversations", "list", "--json")), &cs); err != nil || len(cs) != 1 ||
		cs[0].ID != conv.ID || cs[0].Members != 1 {
		t.Errorf("conversations list --json = %+v, %v; want the one, with 1 member", cs, err)
	}

	nobody := "11111111-2222-4333-8444-555555555555"
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"conversations", "add"}, "conversations add: --title is required"},
		{[]string{"conversations", "add", "--title", "T", "--id", "team"}, "--id: must be a lower-case GUID"},
		{[]string{"conversations", "add", "--title", "T", "--id", conv.ID}, "conversation " + conv.ID + " already exists"},
		{[]string{"conversations", "members", "add", conv.ID}, "conversations members add: want CONVERSATION USER"},
		{[]string{"conversations", "members", "add", "team", alice}, "CONVERSATION: must be a lower-case GUID"},
		{[]string{"conversations", "members", "add", conv.ID, "bob"}, "USER: must be a lower-case GUID"},
		{[]string{"conversations", "members", "add", nobody, alice}, "CONVERSATION: no such conversation"},
		{[]string{"conversations", "members", "add", conv.ID, nobody}, "USER: no such user"},
		{[]string{"conversations", "members", "add", "--role", "owner", conv.ID, alice}, "--role: must be admin or member"},
		{[]string{"conversations", "members", "remove", conv.ID, bob}, "USER: user " + bob + " is not a member of conversation " + conv.ID},
		{[]string{"conversations", "members", "list", nobody}, "CONVERSATION: no such conversation"},
		{[]string{"conversations", "members", "explode"}, `unknown subcommand "explode"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := run(t, env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to say %q", err, tt.msg)
			}
		})
	}
}
