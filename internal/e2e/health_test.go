package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dryad-lang/registry/internal/testenv"
)

func TestHealth(t *testing.T) {
	r := startRegistry(t, regOptions{})
	res := r.expect(200, "GET", "/health", "", nil)
	if string(res.Body) != "healthy\n" {
		t.Errorf("/health = %q", res.Body)
	}
	h := r.expect(200, "GET", "/api/health", "", nil).JSON(t)
	checks := h["checks"].(map[string]any)
	if h["status"] != "healthy" || checks["database"].(map[string]any)["status"] != "ok" || checks["storage"].(map[string]any)["status"] != "ok" {
		t.Errorf("health = %v", h)
	}
	for _, f := range []string{"version", "uptime_seconds", "packages"} {
		if _, ok := h[f]; !ok {
			t.Errorf("health lacks %q", f)
		}
	}
}

// TestHealthDatabaseDown checks that /api/health answers 503 naming the
// database when PostgreSQL goes away, while /health (liveness) stays up.
func TestHealthDatabaseDown(t *testing.T) {
	dbURL := testenv.NewPostgresDatabase(t)
	r := startRegistry(t, regOptions{DatabaseURL: dbURL})
	r.expect(200, "GET", "/api/health", "", nil)

	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	conn, err := pgx.Connect(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	res := r.expect(503, "GET", "/api/health", "", nil)
	h := res.JSON(t)
	db := h["checks"].(map[string]any)["database"].(map[string]any)
	if h["status"] != "unhealthy" || db["status"] != "failing" || db["error"] == "" {
		t.Errorf("health with the database gone = %s", res.Body)
	}
	r.expect(200, "GET", "/health", "", nil)
	// API calls needing the database fail with 503, not a crash.
	if res := r.do("GET", "/api/packages/anything", "", nil); res.Status != 503 {
		t.Errorf("metadata with the database gone: %d %s", res.Status, res.Body)
	}
}
