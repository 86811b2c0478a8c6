package sqlstore

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

func (x q) CreateSession(ctx context.Context, s *store.Session) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	_, err := x.w.ExecContext(ctx, `
		INSERT INTO sessions (id_hash, user_id, credential_version, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`,
		s.IDHash, s.UserID, s.CredentialVersion, utc(s.CreatedAt), utc(s.ExpiresAt))
	return x.wrap(err, "session")
}

func (x q) GetSession(ctx context.Context, idHash string) (*store.Session, error) {
	var s store.Session
	err := x.r.QueryRowContext(ctx, `SELECT id_hash, user_id, credential_version, created_at, expires_at
		FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.UserID, &s.CredentialVersion, timeCol{&s.CreatedAt}, timeCol{&s.ExpiresAt})
	if err != nil {
		return nil, x.wrap(err, "session")
	}
	return &s, nil
}

func (x q) DeleteSession(ctx context.Context, idHash string) error {
	_, err := x.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return x.wrap(err, "session")
}

func (x q) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := x.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return x.wrap(err, "sessions")
}

func (x q) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := x.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, utc(now))
	if err != nil {
		return 0, x.wrap(err, "sessions")
	}
	n, err := res.RowsAffected()
	return n, x.wrap(err, "sessions")
}
