package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
)

// The team in the console (SPEC §11): My leads, the owner filter and column, the overdue
// badge, "Take it" and "Assign to" on the lead page.

// ownerMe is the console's owner filter value for the signed-in member's own leads.
const ownerMe = "me"

// landing is where a signed-in user starts: a member on their own leads, a service token
// (which is nobody) on the whole list.
func landing(sess store.Session) string {
	if sess.Token.StaffID != "" {
		return "/console/leads?" + lead.FieldOwnerID + "=" + ownerMe
	}
	return "/console/leads"
}

// teamView is what the list and the lead page show of the team.
type teamView struct {
	Members []lead.Member     // active, for the filter and "Assign to"
	Names   map[string]string // every member's name by id (former members too)
	Me      string            // the signed-in member's id; "" for a service token
}

func (p *Pages) team(ctx context.Context, sess *staffSession) (teamView, error) {
	all, err := p.cfg.Store.ListMembers(ctx)
	if err != nil {
		return teamView{}, err
	}
	t := teamView{Names: map[string]string{}, Me: sess.Token.StaffID}
	for _, m := range all {
		t.Names[m.ID] = m.Name
		if m.Active {
			t.Members = append(t.Members, m)
		}
	}
	return t, nil
}

// OwnerName is the name of the member id, "" for none.
func (t teamView) OwnerName(id *string) string {
	if id == nil {
		return ""
	}
	return t.Names[*id]
}

// overdue reports whether l waits past its contact due time at now (SPEC §11).
func overdue(l *lead.Lead, now time.Time) bool {
	return l.Status == lead.StatusNew && l.FirstContactedAt == nil && l.ContactDueAt != nil && l.ContactDueAt.Before(now)
}

// ownerFilter rewrites the console's owner_id=me into the member's id (a service token has
// no leads of its own: the filter is dropped) and says whether it was "me".
func ownerFilter(v url.Values, sess *staffSession) (url.Values, bool) {
	if v.Get(lead.FieldOwnerID) != ownerMe {
		return v, false
	}
	w := url.Values{}
	for k, vals := range v {
		w[k] = vals
	}
	if sess.Token.StaffID == "" {
		w.Del(lead.FieldOwnerID)
		return w, false
	}
	w.Set(lead.FieldOwnerID, sess.Token.StaffID)
	return w, true
}

// myOverdue are the member's overdue leads, oldest due first: My leads shows them first.
func (p *Pages) myOverdue(ctx context.Context, me string) ([]lead.Lead, error) {
	page, err := p.cfg.Store.ListLeads(ctx, query.Filter{OwnerID: me, Overdue: true}, query.MaxLimit, nil)
	if err != nil {
		return nil, err
	}
	out := page.Items
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// AssignLead is POST /console/leads/{id}/owner: "Take it" (owner_id=me) or "Assign to" a
// member. The store checks that the member is active (owner_not_assignable).
func (p *Pages) AssignLead(w http.ResponseWriter, r *http.Request) {
	id, sess := r.PathValue("id"), sessionOf(r)
	owner := r.PostForm.Get(lead.FieldOwnerID)
	if owner == ownerMe {
		owner = sess.Token.StaffID
	}
	_, err := p.cfg.Store.PatchLead(r.Context(), id, lead.Input{OwnerID: lead.Val(owner)}, nil, sess.Token.Actor())
	if err != nil {
		p.leadActionFailed(w, r, err, func(d *leadData, de *lead.Error) {
			d.Banner = p.tr(r).T("owner.failed", p.issueText(r, de))
		})
		return
	}
	http.Redirect(w, r, "/console/leads/"+id+"?done=owner", http.StatusSeeOther)
}

// ownerEventSummary says who got the lead and why; a member's id is all the event holds.
func ownerEventSummary(tr i18n.Printer, e lead.Event, t teamView) string {
	var det struct {
		OwnerID *string `json:"owner_id"`
		Reason  string  `json:"reason"`
	}
	_ = json.Unmarshal(e.Details, &det)
	name := t.OwnerName(det.OwnerID)
	if name == "" {
		return tr.T("event.owner_cleared")
	}
	return tr.T("event.owner_assigned_to", name, label(tr, "owner.reason.", det.Reason))
}
