package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// staffCmd is "leads staff add|list|disable" (SPEC §11). add prints the new member's id
// alone on stdout, so that `ID=$(leads staff add …)` works.
func staffCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: leads staff add --name N --email E --role sales|admin [--weight W] [--language nb|en] | staff list | staff disable --email E"
	if len(args) == 0 {
		return errors.New(usage)
	}
	sub := args[0]
	cfg := newConfig(getenv)
	fs := cfg.flags(stderr)
	name := fs.String("name", "", "add: the member's name")
	email := fs.String("email", "", "add, disable: the member's email")
	role := fs.String("role", "", "add: sales or admin")
	weight := fs.Int("weight", 1, "add: share of new leads, 1 to 10")
	language := fs.String("language", "nb", "add: language of the member's emails and console, nb or en")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if sub != "add" && sub != "list" && sub != "disable" {
		return fmt.Errorf("unknown staff subcommand %q (add, list, disable)", sub)
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewJSONHandler(stderr, nil)), time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		m, err := st.CreateMember(ctx, lead.MemberInput{Name: name, Email: email, Role: role, Weight: weight, Language: language})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintln(stdout, m.ID)
		return nil
	case "list":
		members, err := st.ListMembers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tROLE\tLANGUAGE\tWEIGHT\tACTIVE\tAWAY UNTIL")
		for _, m := range members {
			away := "-"
			if m.AwayUntil != nil {
				away = m.AwayUntil.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%t\t%s\n", m.ID, m.Name, m.Email, m.Role, m.Language, m.Weight, m.Active, away)
		}
		return tw.Flush()
	default: // disable
		m, err := st.MemberByEmail(ctx, *email)
		if errors.Is(err, lead.ErrNotFound) {
			return errors.New("no member with that email (see: leads staff list)")
		}
		if err != nil {
			return err
		}
		if _, err := st.UpdateMember(ctx, m.ID, lead.MemberInput{Active: new(false)}, lead.Actor{Name: "command line"}); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stderr, "disabled %s\n", m.ID)
		return nil
	}
}

// cliError spells out a refusal of the store with the rules it names.
func cliError(err error) error {
	var le *lead.Error
	if !errors.As(err, &le) || len(le.Issues) == 0 {
		return err
	}
	var b strings.Builder
	for i, is := range le.Issues {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "--%s: %s (%s)", is.Field, is.Message, is.Rule)
	}
	return errors.New(b.String())
}
