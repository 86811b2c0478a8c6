package auth

import "github.com/dryad-lang/registry/internal/errs"

// Role is an account's level of rights.
type Role string

// The roles an account can have.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// ParseRole returns the Role named s, or an errs.Invalid error.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleUser, RoleAdmin:
		return r, nil
	}
	return "", errs.New(errs.Invalid, `unknown role; use "user" or "admin"`)
}
