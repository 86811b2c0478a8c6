package testenv_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/testenv"
)

func TestNewPostgresDatabase(t *testing.T) {
	dbURL := testenv.NewPostgresDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(u.Path, "/")

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connecting to %s: %v", want, err)
	}
	defer conn.Close(ctx)

	var got string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("current_database() = %q, want %q", got, want)
	}

	// The database is the test's own: it starts empty and takes writes.
	if _, err := conn.Exec(ctx, "CREATE TABLE t (n int)"); err != nil {
		t.Fatalf("database not empty or not writable: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "INSERT INTO t VALUES (42) RETURNING n").Scan(&n); err != nil || n != 42 {
		t.Errorf("insert returned %d, %v; want 42", n, err)
	}
}

func TestNewPostgresDatabaseIsolated(t *testing.T) {
	a, b := testenv.NewPostgresDatabase(t), testenv.NewPostgresDatabase(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
}

func TestRedisURL(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	key := testenv.UniqueName("testenv:")
	if err := client.Set(ctx, key, "v", time.Minute).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := client.Get(ctx, key).Result(); err != nil || got != "v" {
		t.Errorf("GET = %q, %v; want \"v\"", got, err)
	}
	client.Del(ctx, key)
}

func TestUniqueName(t *testing.T) {
	a, b := testenv.UniqueName("p_"), testenv.UniqueName("p_")
	if a == b || !strings.HasPrefix(a, "p_") {
		t.Errorf("UniqueName gave %q and %q", a, b)
	}
}

func TestPackageArchive(t *testing.T) {
	p := testenv.Package{Name: "demo", Version: "1.2.3", Fields: map[string]any{"license": "MIT"},
		Files: map[string]string{"bin/run*": "#!/bin/sh\n", "README.md": "# demo\n"}, Prefix: "demo-1.2.3"}
	got := testenv.Untar(t, p.Archive(t))
	want := map[string]string{"demo-1.2.3": "<dir>", "demo-1.2.3/README.md": "# demo\n", "demo-1.2.3/bin/run*": "#!/bin/sh\n",
		"demo-1.2.3/oaklibs.json": string(p.Manifest()), "demo-1.2.3/lib/demo.dryad": p.FileMap()["lib/demo.dryad"]}
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(p.Manifest(), &m); err != nil || m["name"] != "demo" || m["version"] != "1.2.3" || m["license"] != "MIT" {
		t.Errorf("manifest %s (%v)", p.Manifest(), err)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	testenv.Eventually(t, "the third call", func() (bool, string) {
		n++
		return n == 3, fmt.Sprint(n)
	})
	if n != 3 {
		t.Errorf("cond called %d times", n)
	}
}

func TestNewS3Bucket(t *testing.T) {
	a, b := testenv.NewS3Bucket(t), testenv.NewS3Bucket(t)
	if a.Bucket == b.Bucket {
		t.Fatalf("two calls returned the same bucket %s", a.Bucket)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := a.Client(t)
	if _, err := c.PutObject(ctx, a.Bucket, "k", strings.NewReader("v"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("bucket not writable: %v", err)
	}
	if _, err := c.StatObject(ctx, b.Bucket, "k", minio.StatObjectOptions{}); err == nil {
		t.Error("an object of one test's bucket is in another's")
	}
}
