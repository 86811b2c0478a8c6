package registry

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// requireAdmin allows admins signed in with their password (login token or
// session); API tokens never carry admin rights.
func requireAdmin(p *auth.Principal) error {
	if p == nil {
		return errs.New(errs.Unauthenticated, "log in first")
	}
	if !p.IsAdmin() {
		return errs.New(errs.Forbidden, "this needs an admin account (signed in with its password, not an API token)")
	}
	return nil
}

// UserList is a page of users.
type UserList struct {
	Users []User
	Total int
}

// ListUsers lists and searches users (admins).
func (s *Service) ListUsers(ctx context.Context, p *auth.Principal, query string, limit, offset int) (*UserList, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	us, total, err := s.store.ListUsers(ctx, store.UserFilter{Query: query, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	out := &UserList{Users: []User{}, Total: total}
	for i := range us {
		out.Users = append(out.Users, newUser(&us[i]))
	}
	return out, nil
}

// UserChange is an admin's change to an account; nil fields stay as they are.
type UserChange struct {
	Disabled *bool
	Role     *string
}

// UpdateUser disables/enables an account or changes its role (admins).
// Disabling revokes the account's sessions and tokens.
func (s *Service) UpdateUser(ctx context.Context, p *auth.Principal, username string, c UserChange, ip string) (*User, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if c.Role != nil {
		if _, err := auth.ParseRole(*c.Role); err != nil {
			return nil, errs.OnField(err, "role")
		}
	}
	var u *store.User
	err := s.store.Transact(ctx, func(tx store.Queries) error {
		var err error
		u, err = tx.GetUserByName(ctx, username)
		if errors.Is(err, errs.NotFound) {
			return errs.Errorf(errs.NotFound, "user %q not found", username)
		}
		if err != nil {
			return err
		}
		if u.ID == p.UserID && ((c.Disabled != nil && *c.Disabled) || (c.Role != nil && *c.Role != store.RoleAdmin)) {
			err := errs.New(errs.Conflict, "admins cannot disable or demote themselves; ask another admin")
			if c.Role != nil {
				err = errs.OnField(err, "role")
			}
			return err
		}
		now := s.utcNow()
		detail := ""
		if c.Disabled != nil && *c.Disabled != u.Disabled {
			u.Disabled = *c.Disabled
			detail += "disabled=" + strconv.FormatBool(u.Disabled) + " "
			if u.Disabled {
				// Like a password change, disabling ends every login
				// token issued so far: they stay refused once the account
				// is enabled again.
				u.CredentialVersion++
				if err := tx.RevokeUserTokens(ctx, u.ID, now); err != nil {
					return err
				}
				if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
					return err
				}
			}
		}
		if c.Role != nil && *c.Role != u.Role {
			u.Role = *c.Role
			detail += "role=" + u.Role
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.AddAudit(ctx, &store.AuditEvent{At: now, ActorID: p.UserID, Actor: p.Username, IP: ip, Action: "admin_user_update",
			Target: u.Username, Outcome: store.OutcomeSuccess, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	d := newUser(u)
	return &d, nil
}

// AuditPage is a page of audit events.
type AuditPage struct {
	Events []AuditEvent
	Total  int
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID int64
	At time.Time
	// ActorID is 0 for anonymous requests.
	ActorID int64
	Actor   string
	IP      string
	Action  string
	Package string
	Target  string
	Outcome string
	Detail  string
}

// AuditQuery selects audit events; empty fields match everything.
type AuditQuery struct {
	Actor, Package, Action, Outcome string
	Limit, Offset                   int
}

// The outcomes an audit event records.
var AuditOutcomes = []string{store.OutcomeSuccess, store.OutcomeFailure, store.OutcomeDenied}

// Audit lists audit events (admins).
func (s *Service) Audit(ctx context.Context, p *auth.Principal, q AuditQuery) (*AuditPage, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	f := store.AuditFilter{Actor: q.Actor, Package: q.Package, Action: q.Action, Outcome: q.Outcome, Limit: q.Limit, Offset: q.Offset}
	if f.Package != "" {
		f.Package = normalize(f.Package)
	}
	evs, total, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &AuditPage{Events: []AuditEvent{}, Total: total}
	for _, e := range evs {
		out.Events = append(out.Events, AuditEvent{ID: e.ID, At: e.At.UTC(), ActorID: e.ActorID, Actor: e.Actor, IP: e.IP,
			Action: e.Action, Package: e.Package, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail})
	}
	return out, nil
}

// EnsureAdmin creates an admin account, or promotes an existing user
// (found by username) to admin, for the create-admin command. A password
// is required only to create an account.
func (s *Service) EnsureAdmin(ctx context.Context, username, email, password string) (created bool, err error) {
	u, err := s.store.GetUserByName(ctx, username)
	if err == nil {
		if u.Role == store.RoleAdmin && !u.Disabled {
			return false, nil
		}
		u.Role = store.RoleAdmin
		u.Disabled = false
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return false, err
		}
		s.audit(ctx, &store.AuditEvent{Actor: "create-admin", Action: "admin_user_update", Target: u.Username, Outcome: store.OutcomeSuccess, Detail: "promoted to admin"})
		return false, nil
	}
	if !errors.Is(err, errs.NotFound) {
		return false, err
	}
	doc, err := s.Register(ctx, Registration{Username: username, Email: email, Password: password}, "")
	if err != nil {
		return false, err
	}
	u, err = s.store.GetUser(ctx, doc.ID)
	if err != nil {
		return false, err
	}
	u.Role = store.RoleAdmin
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return false, err
	}
	s.audit(ctx, &store.AuditEvent{Actor: "create-admin", Action: "admin_user_update", Target: u.Username, Outcome: store.OutcomeSuccess, Detail: "created as admin"})
	return true, nil
}
