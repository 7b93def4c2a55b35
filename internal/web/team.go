package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// The Team page (admin, SPEC §11): the members, adding one, changing role, weight,
// language and away-until, deactivating.

// memberForm is the add or change form: what was typed and, per field, what is wrong.
type memberForm struct {
	Name, Email, Role, Weight, Language, Away string
	Errors                                    map[string]string
}

type teamData struct {
	chrome
	Members []lead.Member
	Form    memberForm
	Errors  []fieldError // the summary, in the order of the form
	Done    string
}

type memberData struct {
	chrome
	Member lead.Member
	Form   memberForm
	Errors []fieldError
	Done   string
}

type fieldError struct{ Field, Message string }

func (p *Pages) teamChrome(r *http.Request, title string) chrome {
	c := p.base(r, title)
	c.Nav = "team"
	return c
}

// teamDone is the banner after a change (POST-redirect-GET), in the page's language.
func (p *Pages) teamDone(r *http.Request) string {
	key := map[string]string{"added": "team.added", "saved": "team.saved", "deactivated": "team.deactivated",
		"reactivated": "team.reactivated"}[r.URL.Query().Get("done")]
	if key == "" {
		return ""
	}
	return p.tr(r).T(key)
}

// Team is GET /console/team.
func (p *Pages) Team(w http.ResponseWriter, r *http.Request) {
	p.renderTeam(w, r, http.StatusOK, memberForm{Role: "sales", Weight: "1", Language: "nb"})
}

func (p *Pages) renderTeam(w http.ResponseWriter, r *http.Request, status int, f memberForm) {
	members, err := p.cfg.Store.ListMembers(r.Context())
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	tr := p.tr(r)
	title := tr.T("team.title")
	if len(f.Errors) > 0 {
		title = tr.T("error.prefix", title)
	}
	p.render(w, r, status, "console_team", teamData{chrome: p.teamChrome(r, title), Members: members, Form: f,
		Errors: f.summary(), Done: p.teamDone(r)})
}

func (f memberForm) summary() []fieldError {
	var out []fieldError
	for _, k := range []string{"name", "email", "role", "weight", "language", "away"} {
		if m, ok := f.Errors[k]; ok {
			out = append(out, fieldError{Field: k, Message: m})
		}
	}
	return out
}

// readMemberForm turns the posted fields into a MemberInput, with a message in the page's
// language beside each field that is wrong. create reads name and email too.
func (p *Pages) readMemberForm(r *http.Request, create bool) (lead.MemberInput, memberForm) {
	tr := p.tr(r)
	v := r.PostForm
	f := memberForm{Name: v.Get("name"), Email: v.Get("email"), Role: v.Get("role"), Weight: strings.TrimSpace(v.Get("weight")),
		Language: v.Get("language"), Away: strings.TrimSpace(v.Get("away_until")), Errors: map[string]string{}}
	in := lead.MemberInput{Role: &f.Role, Language: &f.Language}
	if create {
		in.Name, in.Email = &f.Name, &f.Email
	}
	if n, err := strconv.Atoi(f.Weight); err == nil {
		in.Weight = &n
	} else {
		f.Errors["weight"] = tr.T("team.weight_invalid")
	}
	if !create {
		if f.Away == "" {
			in.ClearAway = true
		} else if d, err := time.ParseInLocation(time.DateOnly, f.Away, p.cfg.Location); err == nil {
			d = d.UTC()
			in.AwayUntil = &d
		} else {
			f.Errors["away"] = tr.T("team.away_invalid")
		}
	}
	if err := lead.ValidateMember(in, create); err != nil {
		if le, ok := err.(*lead.Error); ok {
			for _, is := range le.Issues {
				key := map[string]string{"name": "team.name_invalid", "email": "signin.email_invalid", "role": "team.role_invalid",
					"language": "team.language_invalid", "weight": "team.weight_invalid"}[is.Field]
				if key != "" {
					f.Errors[is.Field] = tr.T(key)
				}
			}
		}
	}
	return in, f
}

// AddMember is POST /console/team.
func (p *Pages) AddMember(w http.ResponseWriter, r *http.Request) {
	in, f := p.readMemberForm(r, true)
	if len(f.Errors) > 0 {
		p.renderTeam(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if _, err := p.cfg.Store.CreateMember(r.Context(), in); err != nil {
		if lead.ErrorCode(err) == lead.CodeConflict {
			f.Errors["email"] = p.tr(r).T("team.email_taken")
			p.renderTeam(w, r, http.StatusConflict, f)
			return
		}
		p.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/team?done=added", http.StatusSeeOther)
}

// MemberPage is GET /console/team/{id}: the change form of one member.
func (p *Pages) MemberPage(w http.ResponseWriter, r *http.Request) {
	m, err := p.cfg.Store.GetMember(r.Context(), r.PathValue("id"))
	if err != nil {
		p.memberError(w, r, err)
		return
	}
	f := memberForm{Role: string(m.Role), Weight: strconv.Itoa(m.Weight), Language: m.Language}
	if m.AwayUntil != nil {
		f.Away = m.AwayUntil.In(p.cfg.Location).Format(time.DateOnly)
	}
	p.renderMember(w, r, http.StatusOK, m, f)
}

func (p *Pages) renderMember(w http.ResponseWriter, r *http.Request, status int, m lead.Member, f memberForm) {
	tr := p.tr(r)
	title := tr.T("team.edit", m.Name)
	if len(f.Errors) > 0 {
		title = tr.T("error.prefix", title)
	}
	p.render(w, r, status, "console_team_member", memberData{chrome: p.teamChrome(r, title), Member: m, Form: f,
		Errors: f.summary(), Done: p.teamDone(r)})
}

func (p *Pages) memberError(w http.ResponseWriter, r *http.Request, err error) {
	if lead.ErrorCode(err) == lead.CodeNotFound || err == lead.ErrNotFound {
		p.NotFound(w, r)
		return
	}
	p.internalError(w, r, err)
}

// SaveMember is POST /console/team/{id}: role, weight, language and away-until.
func (p *Pages) SaveMember(w http.ResponseWriter, r *http.Request) {
	m, err := p.cfg.Store.GetMember(r.Context(), r.PathValue("id"))
	if err != nil {
		p.memberError(w, r, err)
		return
	}
	in, f := p.readMemberForm(r, false)
	if len(f.Errors) > 0 {
		p.renderMember(w, r, http.StatusUnprocessableEntity, m, f)
		return
	}
	if _, err := p.cfg.Store.UpdateMember(r.Context(), m.ID, in, sessionOf(r).Token.Actor()); err != nil {
		p.memberError(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/team/"+url.PathEscape(m.ID)+"?done=saved", http.StatusSeeOther)
}

// SetMemberActive is POST /console/team/{id}/active with active=false (deactivate: their
// sessions and tokens stop, their open leads go to others) or active=true.
func (p *Pages) SetMemberActive(w http.ResponseWriter, r *http.Request) {
	active, err := strconv.ParseBool(r.PostForm.Get("active"))
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, p.tr(r).T("errors.unreadable"), p.tr(r).T("errors.unreadable_text"))
		return
	}
	m, err := p.cfg.Store.UpdateMember(r.Context(), r.PathValue("id"), lead.MemberInput{Active: &active}, sessionOf(r).Token.Actor())
	if err != nil {
		p.memberError(w, r, err)
		return
	}
	done := "reactivated"
	if !active {
		done = "deactivated"
	}
	http.Redirect(w, r, "/console/team/"+url.PathEscape(m.ID)+"?done="+done, http.StatusSeeOther)
}
