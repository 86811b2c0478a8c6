package config

import (
	"fmt"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// variable is one configuration setting.
type variable struct {
	name   string
	def    string
	doc    string
	secret bool
	set    func(c *Config, v string) error
}

// vars is every setting the registry reads, in the order they are documented.
var vars = []variable{
	{name: "HOST", def: "127.0.0.1", doc: "address to listen on (0.0.0.0 for all interfaces)",
		set: func(c *Config, v string) error { c.Host = v; return nil }},
	{name: "PORT", def: "4000", doc: "port to listen on (0 picks a free port)",
		set: func(c *Config, v string) (err error) { c.Port, err = parsePort(v, true); return }},
	{name: "DATA_DIR", def: "./data", doc: "folder for the SQLite database, package archives (with BLOB_STORE=fs; uploads in progress either way), git repositories and the generated JWT secret",
		set: func(c *Config, v string) error { c.DataDir = v; return nil }},
	{name: "DOMAIN", doc: "public host name of the registry (used by the nginx template and in emails of git commits)",
		set: func(c *Config, v string) error {
			// It names git commit emails ({username}@users.noreply.DOMAIN)
			// and the transparency log's key: a host name, nothing else.
			if strings.ContainsAny(v, "<>@+/ \t\r\n\x00") {
				return fmt.Errorf("a host name such as registry.example.org")
			}
			c.Domain = v
			return nil
		}},
	{name: "PUBLIC_URL", doc: "base of absolute URLs such as download_url (https://registry.example.org); empty: derived from each request",
		set: setPublicURL},
	{name: "REGISTRY_NAME", def: "Dryad Registry", doc: "name shown in the web interface",
		set: func(c *Config, v string) error { c.RegistryName = v; return nil }},
	{name: "REGISTRY_DESCRIPTION", def: "Packages for the Dryad programming language", doc: "one-line description shown in the web interface",
		set: func(c *Config, v string) error { c.RegistryDescription = v; return nil }},
	{name: "JWT_SECRET", secret: true, doc: "key signing login tokens, at least 16 bytes; empty: generated once into DATA_DIR/jwt_secret",
		set: func(c *Config, v string) error { c.JWTSecret = v; return nil }},
	{name: "LOG_SIGNING_KEY", secret: true, doc: "note private key (PRIVATE+KEY+name+…) signing the transparency log's checkpoints; empty: generated once into DATA_DIR/log_signing_key. Never change it once the log is public",
		set: func(c *Config, v string) error {
			if _, err := note.NewSigner(v); err != nil {
				return fmt.Errorf("want a note signing key such as golang.org/x/mod/sumdb/note.GenerateKey makes (%v)", err)
			}
			c.LogSigningKey = v
			return nil
		}},
	{name: "SESSION_TIMEOUT", def: "7d", doc: "lifetime of login tokens and web sessions (7d, 24h, 3600)",
		set: func(c *Config, v string) (err error) {
			c.SessionTimeout, err = ParseDuration(v)
			if err != nil || c.SessionTimeout < 60e9 {
				return fmt.Errorf("want a duration of at least a minute such as 7d, 24h or 3600 (seconds)")
			}
			return nil
		}},
	{name: "BCRYPT_COST", def: "12", doc: "bcrypt cost of password hashes (10-16; lower only in tests)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 4 || n > 16 {
				return fmt.Errorf("want a whole number from 4 to 16")
			}
			c.BcryptCost = n
			return nil
		}},
	{name: "MAX_PACKAGE_SIZE", def: "100MB", doc: "largest accepted upload (100MB, 100MiB, 512KB or bytes; MB and MiB both mean 1 048 576 bytes)",
		set: func(c *Config, v string) (err error) { c.MaxPackageSize, err = parsePositiveSize(v); return }},
	{name: "MAX_UNPACKED_SIZE", def: "512MB", doc: "largest total size of the files inside a package",
		set: func(c *Config, v string) (err error) { c.MaxUnpackedSize, err = parsePositiveSize(v); return }},
	{name: "UPLOAD_TIMEOUT", def: "300s", doc: "time allowed for one upload (300s, 5m, or seconds)",
		set: func(c *Config, v string) error {
			d, err := ParseDuration(v)
			if err != nil || d < 1e9 {
				return fmt.Errorf("want a duration such as 300s, 5m or 300")
			}
			c.UploadTimeout = d
			return nil
		}},
	{name: "ARCHIVE_CACHE_SIZE", def: "16MB", doc: "memory for keeping small archives (up to 64 KiB, most packages) in each process, so their downloads need no file or storage read; 0 turns it off",
		set: func(c *Config, v string) error {
			n, err := ParseSize(v)
			if err != nil || n < 0 {
				return fmt.Errorf("want a size such as 16MB, or 0 for none")
			}
			c.ArchiveCacheSize = n
			return nil
		}},
	{name: "ORPHAN_QUARANTINE", def: "7d", doc: "how long archives the orphan sweep removed are kept in quarantine (DATA_DIR/packages/quarantine, or quarantine/ in S3) before deletion (7d, 48h)",
		set: func(c *Config, v string) (err error) {
			c.OrphanQuarantine, err = ParseDuration(v)
			if err != nil || c.OrphanQuarantine < time.Hour {
				return fmt.Errorf("want a duration of at least an hour such as 7d or 48h")
			}
			return nil
		}},
	{name: "DATABASE_URL", secret: true, doc: "postgres://user:password@host:5432/db for PostgreSQL; empty: SQLite in DATA_DIR/registry.db",
		set: setDatabaseURL},
	{name: "REGISTRY_DB_HOST", doc: "PostgreSQL host, used to build DATABASE_URL when that is empty",
		set: func(*Config, string) error { return nil }},
	{name: "REGISTRY_DB_PORT", doc: "PostgreSQL port (5432)",
		set: func(_ *Config, v string) error { _, err := parsePort(v, false); return err }},
	{name: "REGISTRY_DB_NAME", doc: "PostgreSQL database name (dryad_registry)",
		set: func(*Config, string) error { return nil }},
	{name: "REGISTRY_DB_USER", doc: "PostgreSQL user (registry)",
		set: func(*Config, string) error { return nil }},
	{name: "REGISTRY_DB_PASSWORD", secret: true, doc: "PostgreSQL password",
		set: func(*Config, string) error { return nil }},
	{name: "REDIS_URL", secret: true, doc: "redis://:password@host:6379/0 to share cache and rate limits between instances; empty: in-process",
		set: setRedisURL},
	{name: "REDIS_HOST", doc: "Redis host, used to build REDIS_URL when that is empty",
		set: func(*Config, string) error { return nil }},
	{name: "REDIS_PORT", doc: "Redis port (6379)",
		set: func(_ *Config, v string) error { _, err := parsePort(v, false); return err }},
	{name: "REDIS_PASSWORD", secret: true, doc: "Redis password",
		set: func(*Config, string) error { return nil }},
	{name: "BLOB_STORE", def: "fs", doc: "where package archives are kept: fs (DATA_DIR/packages) or s3 (the S3_* settings; for instances that share no disk)",
		set: func(c *Config, v string) error {
			if v != "fs" && v != "s3" {
				return fmt.Errorf("want fs or s3")
			}
			c.BlobStore = v
			return nil
		}},
	{name: "S3_ENDPOINT", doc: "URL of the S3-compatible server (https://s3.eu-west-1.amazonaws.com, http://minio:9000); empty: AWS",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
				return fmt.Errorf("want http://host:port or https://host, with no path or credentials")
			}
			c.S3.Endpoint = strings.TrimRight(v, "/")
			return nil
		}},
	{name: "S3_BUCKET", doc: "bucket of the package archives; it must exist (the registry never creates it)",
		set: func(c *Config, v string) error { c.S3.Bucket = v; return nil }},
	{name: "S3_REGION", def: "us-east-1", doc: "region of the bucket",
		set: func(c *Config, v string) error { c.S3.Region = v; return nil }},
	{name: "S3_ACCESS_KEY_ID", doc: "access key allowed to read, write, list and delete objects in the bucket",
		set: func(c *Config, v string) error { c.S3.AccessKeyID = v; return nil }},
	{name: "S3_SECRET_ACCESS_KEY", secret: true, doc: "secret of S3_ACCESS_KEY_ID",
		set: func(c *Config, v string) error { c.S3.SecretAccessKey = v; return nil }},
	{name: "S3_PREFIX", doc: "folder of the bucket the registry keeps its objects in (dryad/), so that a bucket can be shared; empty: the whole bucket",
		set: func(c *Config, v string) error { c.S3.Prefix = strings.TrimLeft(v, "/"); return nil }},
	{name: "S3_FORCE_PATH_STYLE", def: "false", doc: "address the bucket as ENDPOINT/BUCKET (most self-hosted servers) instead of BUCKET.ENDPOINT",
		set: func(c *Config, v string) (err error) { c.S3.ForcePathStyle, err = parseBool(v); return }},
	{name: "S3_REDIRECT_DOWNLOADS", def: "false", doc: "answer archive downloads with a 302 to a URL of the bucket valid 5 minutes instead of streaming them through the registry (S3_ENDPOINT must be reachable by clients); downloads are counted either way",
		set: func(c *Config, v string) (err error) { c.S3.RedirectDownloads, err = parseBool(v); return }},
	{name: "GIT_DIR", doc: "folder of the packages' git repositories; empty: DATA_DIR/git",
		set: func(c *Config, v string) error { c.GitDir = v; return nil }},
	{name: "GIT_PER_INSTANCE", def: "false", doc: "true: every instance keeps its own repositories in its GIT_DIR, following the database's record of changes (instances that share no filesystem); false: one GIT_DIR shared by every instance",
		set: func(c *Config, v string) (err error) { c.GitPerInstance, err = parseBool(v); return }},
	{name: "GIT_MIRROR_URL", secret: true, doc: "push every package repository to this URL template: {name} is the package, ${GITEA_TOKEN} (or ${GITEA_URL}, ${GITEA_ORG}, ${DOMAIN}) that setting",
		set: func(c *Config, v string) error { c.GitMirrorURL = v; return nil }},
	{name: "GITEA_URL", doc: "Gitea or Forgejo base URL; missing mirror repositories are created through its API",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("want an http(s) URL such as https://git.example.org")
			}
			c.GiteaURL = strings.TrimRight(v, "/")
			return nil
		}},
	{name: "GITEA_TOKEN", secret: true, doc: "Gitea access token with permission to create repositories in GITEA_ORG",
		set: func(c *Config, v string) error { c.GiteaToken = v; return nil }},
	{name: "GITEA_ORG", def: "dryad", doc: "Gitea organisation that holds the mirrors",
		set: func(c *Config, v string) error { c.GiteaOrg = v; return nil }},
	{name: "NOTIFY_EMAIL_COMMAND", doc: "sendmail-compatible command (/usr/sbin/sendmail -t -i) given one message on standard input to tell the owners of packages whose dependency ranges a yank or delete moved; empty: no e-mail",
		set: func(c *Config, v string) error {
			f := strings.Fields(v)
			if len(f) == 0 {
				return fmt.Errorf("want a command such as /usr/sbin/sendmail -t -i")
			}
			c.NotifyEmailCommand = f
			return nil
		}},
	{name: "NOTIFY_EMAIL_FROM", doc: "sender of those e-mails (Dryad Registry <registry@example.org>); empty: noreply@DOMAIN",
		set: func(c *Config, v string) error {
			if _, err := mail.ParseAddress(v); err != nil {
				return fmt.Errorf("want an e-mail address such as registry@example.org or \"Dryad Registry <registry@example.org>\"")
			}
			c.NotifyEmailFrom = v
			return nil
		}},
	{name: "WEBHOOK_ALLOW_PRIVATE", def: "false", doc: "let webhooks reach loopback, private and link-local addresses (closed networks, tests); false: such URLs are refused, and checked again at each connection",
		set: func(c *Config, v string) (err error) { c.WebhookAllowPrivate, err = parseBool(v); return }},
	{name: "WEBHOOK_RETRY_BASE", def: "30s", doc: "wait after a webhook delivery's first failure, doubled after each further one (up to an hour) and spread by jitter (30s, 1m, 500ms)",
		set: func(c *Config, v string) (err error) {
			c.WebhookRetryBase, err = ParseDuration(v)
			if err != nil || c.WebhookRetryBase < 10*time.Millisecond || c.WebhookRetryBase > time.Hour {
				return fmt.Errorf("want a duration from 10ms to 1h such as 30s or 1m")
			}
			return nil
		}},
	{name: "WEBHOOK_MAX_ATTEMPTS", def: "8", doc: "attempts at a webhook delivery before it is marked failed (1 to 20)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 20 {
				return fmt.Errorf("want a number from 1 to 20")
			}
			c.WebhookMaxAttempts = n
			return nil
		}},
	{name: "INSTALL_RATE_LIMIT", def: "100", doc: "install requests (package metadata, archive downloads, health) per second per client, in bursts of 20 times that: 500 dependencies at once; 0 disables",
		set: func(c *Config, v string) (err error) { c.InstallRateLimit, err = parseRate(v); return }},
	{name: "API_RATE_LIMIT", def: "10", doc: "other API requests (writes, logins, search) per second per client (burst twice that); 0 disables",
		set: func(c *Config, v string) (err error) { c.APIRateLimit, err = parseRate(v); return }},
	{name: "UPLOAD_RATE_LIMIT", def: "2", doc: "uploads per second per client (burst 5); 0 disables",
		set: func(c *Config, v string) (err error) { c.UploadRateLimit, err = parseRate(v); return }},
	{name: "TRUSTED_PROXIES", doc: "comma-separated CIDRs of proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (127.0.0.1/32,10.0.0.0/8)",
		set: setTrustedProxies},
	{name: "ALLOWED_ORIGINS", doc: "comma-separated origins allowed to call the API from browsers (CORS); * for any",
		set: func(c *Config, v string) error { c.AllowedOrigins = SplitList(v); return nil }},
	{name: "LOG_LEVEL", def: "info", doc: "debug, info, warn or error",
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("want debug, info, warn or error")
			}
			return nil
		}},
	{name: "LOG_FORMAT", def: "text", doc: "text or json",
		set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("want text or json")
			}
			c.LogFormat = v
			return nil
		}},
	{name: "ENABLE_METRICS", def: "true", doc: "serve Prometheus metrics at /metrics",
		set: func(c *Config, v string) (err error) { c.EnableMetrics, err = parseBool(v); return }},
	{name: "METRICS_PORT", def: "0", doc: "serve /metrics on this port instead of the main one; 0: main port",
		set: func(c *Config, v string) (err error) { c.MetricsPort, err = parsePort(v, true); return }},
	{name: "PROFILING", def: "false", doc: "also serve Go's runtime profiles (/debug/pprof/) on METRICS_PORT, for diagnosing memory and CPU",
		set: func(c *Config, v string) (err error) { c.Profiling, err = parseBool(v); return }},
}

func lookup(name string) *variable {
	for i := range vars {
		if vars[i].name == name {
			return &vars[i]
		}
	}
	return nil
}

// Var describes one setting for documentation and flags.
type Var struct {
	Name, Default, Doc string
	Secret             bool
}

// Vars lists every setting in documentation order.
func Vars() []Var {
	out := make([]Var, len(vars))
	for i, v := range vars {
		out[i] = Var{Name: v.name, Default: v.def, Doc: v.doc, Secret: v.secret}
	}
	return out
}

// FlagName is the command-line flag of a variable: PORT is --port,
// MAX_PACKAGE_SIZE is --max-package-size.
func FlagName(v string) string {
	return strings.ReplaceAll(strings.ToLower(v), "_", "-")
}

func parsePort(v string, zeroOK bool) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n > 65535 || n < 0 || (n == 0 && !zeroOK) {
		if zeroOK {
			return 0, fmt.Errorf("want a port number from 0 to 65535")
		}
		return 0, fmt.Errorf("want a port number from 1 to 65535")
	}
	return n, nil
}

func parsePositiveSize(v string) (int64, error) {
	n, err := ParseSize(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a size such as 100MB")
	}
	return n, nil
}

func parseRate(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, fmt.Errorf("want a number of requests per second such as 10 (0 disables the limit)")
	}
	return f, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

// SplitList splits a comma-separated value, trimmed, dropping empty items.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func setPublicURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("want an absolute http(s) URL such as https://registry.example.org")
	}
	c.PublicURL = strings.TrimRight(v, "/")
	return nil
}

func setDatabaseURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("want empty (SQLite in DATA_DIR) or a postgres:// URL")
	}
	c.DatabaseURL = v
	return nil
}

func setRedisURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("want empty (in-process) or a redis:// URL such as redis://:password@127.0.0.1:6379/0")
	}
	c.RedisURL = v
	return nil
}

func setTrustedProxies(c *Config, v string) error {
	c.TrustedProxies = nil
	for _, s := range SplitList(v) {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return fmt.Errorf("want comma-separated CIDRs such as 127.0.0.1/32,10.0.0.0/8; %q is not one", s)
			}
			c.TrustedProxies = append(c.TrustedProxies, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("want comma-separated CIDRs such as 127.0.0.1/32,10.0.0.0/8; %q is not one", s)
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	return nil
}

// logLevelString keeps slog's names lower-case, as LOG_LEVEL is written.
func logLevelString(l slog.Level) string { return strings.ToLower(l.String()) }
