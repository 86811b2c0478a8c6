package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

const userColumns = `id, username, email, full_name, password_hash, role, disabled,
	credential_version, created_at, updated_at, last_login_at`

func scanUser(row interface{ Scan(...any) error }) (*store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.FullName, &u.PasswordHash, &u.Role, &u.Disabled,
		&u.CredentialVersion, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, nullTimeCol{&u.LastLoginAt})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (x q) CreateUser(ctx context.Context, u *store.User) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.UpdatedAt = u.CreatedAt
	if u.Role == "" {
		u.Role = store.RoleUser
	}
	if u.CredentialVersion == 0 {
		u.CredentialVersion = 1
	}
	err := x.w.QueryRowContext(ctx, `
		INSERT INTO users (username, email, full_name, password_hash, role, disabled, credential_version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		u.Username, u.Email, u.FullName, u.PasswordHash, u.Role, u.Disabled, u.CredentialVersion,
		utc(u.CreatedAt), utc(u.UpdatedAt)).Scan(&u.ID)
	if err != nil && x.d.IsUnique(err) {
		// Tell which of the two unique values collided.
		if _, e := x.GetUserByName(ctx, u.Username); e == nil {
			return errs.OnField(errs.Errorf(errs.Conflict, "username %q is already taken", u.Username), "username")
		}
		return errs.OnField(errs.Errorf(errs.Conflict, "email %q is already registered", u.Email), "email")
	}
	return x.wrap(err, "user")
}

func (x q) GetUser(ctx context.Context, id int64) (*store.User, error) {
	u, err := scanUser(x.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, x.wrap(err, "user")
}

func (x q) GetUserByName(ctx context.Context, username string) (*store.User, error) {
	u, err := scanUser(x.r.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username))
	return u, x.wrap(err, "user "+quote(username))
}

func (x q) GetUserByLogin(ctx context.Context, login string) (*store.User, error) {
	col := "username"
	if strings.Contains(login, "@") {
		col = "email"
	}
	u, err := scanUser(x.r.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(`+col+`) = lower($1)`, login))
	return u, x.wrap(err, "user")
}

func (x q) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, int, error) {
	where, args := "", []any{}
	if f.Query != "" {
		where = ` WHERE lower(username) LIKE $1 ESCAPE '\' OR lower(email) LIKE $1 ESCAPE '\' OR lower(full_name) LIKE $1 ESCAPE '\'`
		args = append(args, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	var total int
	if err := x.r.QueryRowContext(ctx, `SELECT count(*) FROM users`+where, args...).Scan(&total); err != nil {
		return nil, 0, x.wrap(err, "users")
	}
	limit, offset := page(f.Limit, f.Offset)
	rows, err := x.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+where+
		` ORDER BY lower(username) LIMIT `+itoa(limit)+` OFFSET `+itoa(offset), args...)
	if err != nil {
		return nil, 0, x.wrap(err, "users")
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, x.wrap(err, "users")
		}
		out = append(out, *u)
	}
	return out, total, x.wrap(rows.Err(), "users")
}

func (x q) UpdateUser(ctx context.Context, u *store.User) error {
	u.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	res, err := x.w.ExecContext(ctx, `
		UPDATE users SET email = $2, full_name = $3, password_hash = $4, role = $5, disabled = $6,
			credential_version = $7, updated_at = $8
		WHERE id = $1`,
		u.ID, u.Email, u.FullName, u.PasswordHash, u.Role, u.Disabled, u.CredentialVersion, utc(u.UpdatedAt))
	if err != nil && x.d.IsUnique(err) {
		return errs.OnField(errs.Errorf(errs.Conflict, "email %q is already registered", u.Email), "email")
	}
	return x.wrap(mustAffect(res, err, "user"), "user")
}

func (x q) TouchLogin(ctx context.Context, id int64, at time.Time) error {
	res, err := x.w.ExecContext(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, id, utc(at))
	return x.wrap(mustAffect(res, err, "user"), "user")
}

func (x q) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := x.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, x.wrap(err, "users")
}
