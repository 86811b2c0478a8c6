package sqlstore

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

const tokenColumns = `id, user_id, name, token_hash, scopes, packages, created_at, last_used_at, expires_at, revoked_at`

func scanToken(row interface{ Scan(...any) error }) (*store.Token, error) {
	var t store.Token
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, jsonList{&t.Scopes}, jsonList{&t.Packages},
		timeCol{&t.CreatedAt}, nullTimeCol{&t.LastUsedAt}, nullTimeCol{&t.ExpiresAt}, nullTimeCol{&t.RevokedAt})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (x q) CreateToken(ctx context.Context, t *store.Token) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	err := x.w.QueryRowContext(ctx, `
		INSERT INTO api_tokens (user_id, name, token_hash, scopes, packages, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		t.UserID, t.Name, t.Hash, listArg(t.Scopes), listArg(t.Packages), utc(t.CreatedAt), nullTime(t.ExpiresAt)).Scan(&t.ID)
	return x.wrap(err, "token")
}

func (x q) GetTokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	t, err := scanToken(x.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	return t, x.wrap(err, "token")
}

func (x q) ListTokens(ctx context.Context, userID int64) ([]store.Token, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC`, userID)
	if err != nil {
		return nil, x.wrap(err, "tokens")
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, x.wrap(err, "tokens")
		}
		out = append(out, *t)
	}
	return out, x.wrap(rows.Err(), "tokens")
}

func (x q) RevokeToken(ctx context.Context, userID, tokenID int64, at time.Time) error {
	res, err := x.w.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $3
		WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, tokenID, userID, utc(at))
	return x.wrap(mustAffect(res, err, "token"), "token")
}

func (x q) RevokeUserTokens(ctx context.Context, userID int64, at time.Time) error {
	_, err := x.w.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $2
		WHERE user_id = $1 AND revoked_at IS NULL`, userID, utc(at))
	return x.wrap(err, "tokens")
}

func (x q) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := x.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, utc(at))
	return x.wrap(err, "token")
}
