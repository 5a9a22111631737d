package cli

import (
	"context"
	"fmt"

	"github.com/cardgate/cardgate"
)

// conversationFields are the API field names of a conversation and the
// flags that set them.
var conversationFields = map[string]string{"id": "--id", "title": "--title"}

// memberFields name the positional arguments the domain's errors speak of.
var memberFields = map[string]string{"conversationId": "CONVERSATION", "userId": "USER", "role": "--role"}

func runConversations(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "conversations", args, map[string]verb{
		"add": {"add a conversation: a group whose members cards are sent to", func(ctx context.Context, env *Env, args []string) error {
			var id, title *string
			h := help{name: "conversations add", summary: "add a conversation: a group of users in which cards are sent as forms",
				example: `cardgate conversations add --title "Field team"`, required: []string{"title"}, fields: conversationFields}
			return adminCmd(ctx, env, args, h, storeFlags, 0, func(fs flagSet) {
				id = fs.String("id", "", "conversation id, a lower-case GUID (default: a new one)")
				title = fs.String("title", "", "the conversation's `title`, as its members see it")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				c := &cardgate.Conversation{ID: *id, Title: *title}
				if err := sys.svc.CreateConversation(ctx, c); err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, c)
				}
				fmt.Fprintf(env.Stdout, "added conversation %s (%s)\n", c.ID, c.Title)
				return nil
			})
		}},
		"list": {"list the conversations", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "conversations list", summary: "list the conversations, oldest first", example: "cardgate conversations list --json"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				cs, err := sys.store.Conversations(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(cs))
				}
				var rows [][]string
				for _, c := range cs {
					rows = append(rows, []string{c.ID, c.Title, fmt.Sprint(c.Members)})
				}
				table(env.Stdout, "ID\tTITLE\tMEMBERS", rows)
				return nil
			})
		}},
		"members": {"add, list or remove a conversation's members", runMembers},
	})
}

func runMembers(ctx context.Context, env *Env, args []string) error {
	return nested(ctx, env, "conversations members", "add, list or remove a conversation's members", args, map[string]verb{
		"add": {"add a user to a conversation, or change their role", func(ctx context.Context, env *Env, args []string) error {
			var role *string
			h := help{name: "conversations members add", args: "CONVERSATION USER",
				summary: "add a user to a conversation as a member or an admin, or change the role of one who is a member already",
				more:    "Admins also see the results of forms whose results are visible to admins.",
				example: "cardgate conversations members add --role admin 3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10",
				fields:  memberFields}
			return adminCmd(ctx, env, args, h, storeFlags, 2, func(fs flagSet) {
				role = fs.String("role", "member", "`role` in the conversation: member or admin")
			}, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				m, err := sys.svc.PutMember(ctx, pos[0], pos[1], cardgate.MemberRole(*role))
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, m)
				}
				fmt.Fprintf(env.Stdout, "user %s is %s of conversation %s\n", m.UserID, article(m.Role), m.ConversationID)
				return nil
			})
		}},
		"list": {"list a conversation's members", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "conversations members list", args: "CONVERSATION", summary: "list a conversation's members and their roles",
				example: "cardgate conversations members list 3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10", fields: memberFields}
			return adminCmd(ctx, env, args, h, storeFlags, 1, nil, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				ms, err := sys.store.Members(ctx, pos[0])
				if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
					return cardgate.Errorf(cardgate.ENOTFOUND, "CONVERSATION: no such conversation")
				} else if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(ms))
				}
				var rows [][]string
				for _, m := range ms {
					name := ""
					if u, err := sys.store.User(ctx, m.UserID); err == nil {
						name = u.Name
					}
					rows = append(rows, []string{m.UserID, name, string(m.Role)})
				}
				table(env.Stdout, "USER\tNAME\tROLE", rows)
				return nil
			})
		}},
		"remove": {"remove a user from a conversation", func(ctx context.Context, env *Env, args []string) error {
			h := help{name: "conversations members remove", args: "CONVERSATION USER",
				summary: "remove a user from a conversation: they can no longer respond to its forms nor see their results",
				more:    "The responses they sent stay.",
				example: "cardgate conversations members remove 3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10",
				fields:  memberFields}
			return adminCmd(ctx, env, args, h, storeFlags, 2, nil, func(ctx context.Context, sys *system, pos []string, asJSON bool) error {
				if err := sys.svc.RemoveMember(ctx, pos[0], pos[1]); err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, map[string]any{"conversationId": pos[0], "userId": pos[1], "removed": true})
				}
				fmt.Fprintf(env.Stdout, "removed user %s from conversation %s\n", pos[1], pos[0])
				return nil
			})
		}},
	})
}

func article(r cardgate.MemberRole) string {
	if r == cardgate.MemberAdmin {
		return "an admin"
	}
	return "a member"
}
