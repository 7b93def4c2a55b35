package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// tokenCmd is "leads token create|list|revoke". create prints the raw token alone on stdout,
// so that `TOKEN=$(leads token create --name ann --role sales)` works.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: leads token create --name N --role sales|admin | token create --staff EMAIL | token list | token revoke --name N")
	}
	sub := args[0]
	cfg := newConfig(getenv)
	fs := cfg.flags(stderr)
	name := fs.String("name", "", "token name (recorded as the actor of changes)")
	role := fs.String("role", "sales", "token role: sales or admin")
	member := fs.String("staff", "", "create: a token that acts as the active member with this email (instead of --name/--role)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewJSONHandler(stderr, nil)), time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		if *member != "" {
			raw, _, err := st.CreateMemberToken(ctx, *member)
			if errors.Is(err, lead.ErrNotFound) {
				return errors.New("no member with that email (see: leads staff list)")
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, raw)
			return nil
		}
		r, ok := lead.ParseRole(*role)
		if !ok {
			return fmt.Errorf("--role must be sales or admin")
		}
		raw, _, err := st.CreateToken(ctx, *name, r)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, raw)
		return nil
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tREVOKED")
		tokens, err := st.ListTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := st.RevokeToken(ctx, *name); err != nil {
			if errors.Is(err, lead.ErrNotFound) {
				return fmt.Errorf("no live token named %q", *name)
			}
			return err
		}
		fmt.Fprintf(stderr, "revoked %s\n", *name)
		return nil
	}
	return fmt.Errorf("unknown token subcommand %q (create, list, revoke)", sub)
}
