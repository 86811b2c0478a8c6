// Package testenv gives tests the real engines started by scripts/test.sh:
// PostgreSQL, Redis, an S3 server and the executables (git, nginx,
// chromium) they drive.
//
// On a developer machine a test whose engine is missing is skipped. When the
// CI variable is set, a missing engine fails the test instead: CI must never
// pass by skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// InCI reports whether the tests run under CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing skips the test, or fails it under CI, because what names is not
// available here.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required when CI is set (run the tests with ./scripts/test.sh)", what)
	}
	t.Skipf("%s not available; run ./scripts/test.sh to start it", what)
}

// PostgresURL returns the URL of the test PostgreSQL server (TEST_DATABASE_URL).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		Missing(t, "PostgreSQL (TEST_DATABASE_URL)")
	}
	return u
}

// NewPostgresDatabase creates an empty database on the test server for this
// test alone and returns its URL; the database is dropped when the test ends.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)

	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("dropping test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// RedisURL returns the URL of the test Redis server (TEST_REDIS_URL).
// Tests sharing it must use their own key prefix (see UniqueName).
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		Missing(t, "Redis (TEST_REDIS_URL)")
	}
	return u
}

// LookPath returns the path of an executable the test needs, skipping (or
// failing under CI) when it is not installed.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name)
	}
	return p
}

// UniqueName returns a short random name with the given prefix, for keys,
// folders and databases that must not collide between tests.
func UniqueName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
