package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// At LOG_LEVEL=debug, in both formats, through registration, logins good
// and bad, token creation, a publish with a token, a password change and a
// configuration full of secrets (a mirror and a Redis that fail, so their
// errors are logged too), no password, token or secret appears anywhere in
// the log; every line is structured and those of a request carry its id.
func TestLogsHoldNoSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			const (
				jwtSecret     = "jwt-Secret-Value-7f3a9c2e41d8b6"
				dbPassword    = "db-Pa55word-x9qZ"
				redisPassword = "redis-Pa55-k2wY"
				giteaToken    = "gitea-Token-4c1e8aB"
				password      = "First-Passphrase-1a2b"
				newPassword   = "Second-Passphrase-3c4d"
			)
			dbURL, err := url.Parse(testenv.NewPostgresDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			dbURL.User = url.UserPassword(dbURL.User.Username(), dbPassword)
			closed := pickPort(t)
			r := startRegistry(t, regOptions{DatabaseURL: dbURL.String(), Env: map[string]string{
				"LOG_LEVEL": "debug", "LOG_FORMAT": format, "JWT_SECRET": jwtSecret,
				"REDIS_URL":      "redis://:" + redisPassword + "@127.0.0.1:" + closed + "/0",
				"GITEA_TOKEN":    giteaToken,
				"GIT_MIRROR_URL": "http://mirror:${GITEA_TOKEN}@127.0.0.1:" + closed + "/{name}.git",
			}})
			secrets := []string{jwtSecret, dbPassword, redisPassword, giteaToken, password, newPassword}

			r.expect(201, "POST", "/api/auth/register", "", map[string]string{"username": "quiet", "email": "quiet@example.org", "password": password})
			jwt := r.login2("quiet", password)
			token := r.expect(201, "POST", "/api/tokens", jwt, map[string]any{"name": "ci", "scopes": []string{"publish"}}).JSON(t)["token"].(string)
			secrets = append(secrets, jwt, token, strings.TrimPrefix(token, "oak_"))
			up := r.expect(201, "POST", "/api/upload", token, pkg{name: "hushed", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
			for i := range 3 {
				wrong := fmt.Sprintf("Wrong-Passphrase-%d-zz", i)
				secrets = append(secrets, wrong)
				r.expect(401, "POST", "/api/auth/login", "", map[string]string{"username": "quiet", "password": wrong})
			}
			r.expect(401, "GET", "/api/auth/profile", "oak_"+strings.Repeat("x", 40), nil)
			r.expect(200, "POST", "/api/auth/password", jwt, map[string]string{"current_password": password, "new_password": newPassword})
			jwt2 := r.login2("quiet", newPassword)
			secrets = append(secrets, jwt2)
			r.expect(200, "GET", "/api/auth/profile", jwt2, nil)
			// Give the git worker a moment to try the mirror, whose failure
			// names its URL; the check below holds whether or not it did.
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) && !strings.Contains(r.Logs(), "mirror push failed") {
				time.Sleep(100 * time.Millisecond)
			}
			r.Stop()
			logs := r.Logs()

			for _, s := range secrets {
				if strings.Contains(logs, s) {
					i := strings.Index(logs, s)
					t.Errorf("secret %.10s… is in the log: …%s…", s, logs[max(0, i-200):min(len(logs), i+len(s)+50)])
				}
			}

			// Every line is structured; the lines of the publish carry its
			// request id.
			id := up.Header.Get("X-Request-ID")
			published := 0
			for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
				var msg, rid string
				if format == "json" {
					var m map[string]any
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Fatalf("log line is not JSON: %q", line)
					}
					msg, _ = m["msg"].(string)
					rid, _ = m["request_id"].(string)
				} else {
					if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") || !strings.Contains(line, " msg=") {
						t.Fatalf("log line is not key=value text: %q", line)
					}
					if strings.Contains(line, "msg=published ") {
						msg = "published"
					}
					if _, after, ok := strings.Cut(line, " request_id="); ok {
						rid, _, _ = strings.Cut(after, " ")
					}
				}
				if msg == "published" {
					published++
					if rid != id {
						t.Errorf("the publish's log line has request_id %q, want %q: %s", rid, id, line)
					}
				}
			}
			if published != 1 {
				t.Errorf("%d lines announce the publish, want 1", published)
			}
		})
	}
}
