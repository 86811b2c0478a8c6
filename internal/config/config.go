// Package config turns built-in defaults, a .env file, the environment and
// command-line flags (later wins) into one Config.
//
// Every variable is declared once in the vars table: its name, default,
// meaning, whether it is a secret, and how it is parsed. The README's
// configuration table, the flags and `dryad-registry config` all come from it.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/dryad-lang/registry/internal/errs"
)

// Config is the registry's effective configuration.
type Config struct {
	Host    string
	Port    int
	DataDir string
	Domain  string
	// PublicURL is the base of absolute URLs (no trailing slash); empty means
	// derived from each request.
	PublicURL           string
	RegistryName        string
	RegistryDescription string

	JWTSecret string
	// LogSigningKey is the note private key signing the transparency
	// log's checkpoints.
	LogSigningKey  string
	SessionTimeout time.Duration
	BcryptCost     int

	MaxPackageSize int64
	// ArchiveCacheSize bounds the in-process memory for small archives.
	ArchiveCacheSize int64
	MaxUnpackedSize  int64
	UploadTimeout    time.Duration
	// OrphanQuarantine is how long swept archives are kept before deletion.
	OrphanQuarantine time.Duration

	// DatabaseURL is empty for the embedded SQLite database.
	DatabaseURL string
	// RedisURL is empty for the in-process cache and rate limiter.
	RedisURL string

	// BlobStore is "fs" (DATA_DIR/packages) or "s3" (the bucket of S3).
	BlobStore string
	S3        S3

	GitDir         string
	GitPerInstance bool
	GitMirrorURL   string
	GiteaURL       string
	GiteaToken     string
	GiteaOrg       string

	// NotifyEmailCommand is the program and arguments that send e-mail
	// notices (none when empty); NotifyEmailFrom their sender.
	NotifyEmailCommand []string
	NotifyEmailFrom    string
	// Webhooks: whether hooks may reach private addresses, the wait after
	// a delivery's first failure (doubled after each further one) and the
	// attempts before a delivery is given up.
	WebhookAllowPrivate bool
	WebhookRetryBase    time.Duration
	WebhookMaxAttempts  int

	InstallRateLimit float64
	APIRateLimit     float64
	UploadRateLimit  float64
	TrustedProxies   []netip.Prefix
	AllowedOrigins   []string

	LogLevel      slog.Level
	LogFormat     string
	EnableMetrics bool
	MetricsPort   int
	Profiling     bool

	// Ignored lists the variables that were recognised as belonging to the
	// deployment guide but have no effect here (SMTP_*, BACKUP_*).
	Ignored []string
	// Unknown lists unrecognised variables found in the .env file.
	Unknown []string
	// Sources records where each variable's value came from.
	Sources map[string]string
}

// S3 is where package archives are kept with BLOB_STORE=s3.
type S3 struct {
	Endpoint        string
	Bucket          string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	Prefix          string
	ForcePathStyle  bool
	// RedirectDownloads answers downloads with a 302 to a presigned URL.
	RedirectDownloads bool
}

// Error is a configuration value that cannot be used. Its text is one line
// naming the variable, the value and what is allowed.
type Error struct {
	Var, Value, Want string
	Secret           bool
}

func (e *Error) Error() string {
	v := e.Value
	if e.Secret {
		v = mask(v)
	}
	return fmt.Sprintf("%s=%q: %s", e.Var, v, e.Want)
}

// Options says where Load reads from. Zero values mean: no .env file given
// explicitly (./.env is read when present), the process environment, and no
// flags.
type Options struct {
	// EnvFile is the path given with --env-file; it must exist.
	EnvFile string
	// WorkDir is where ./.env is looked for when EnvFile is empty.
	WorkDir string
	// Environ is the environment as KEY=VALUE strings (os.Environ()).
	Environ []string
	// Flags are values set on the command line, by variable name.
	Flags map[string]string
}

// Load reads the configuration in order: defaults, .env file, environment,
// flags. It returns an *Error for the first bad value.
func Load(opts Options) (*Config, error) {
	raw := make(map[string]string)
	sources := make(map[string]string)
	for _, v := range vars {
		if v.def != "" {
			raw[v.name] = v.def
			sources[v.name] = "default"
		}
	}

	var ignored, unknown []string
	envFile, explicit := opts.EnvFile, opts.EnvFile != ""
	if !explicit {
		envFile = filepath.Join(opts.WorkDir, ".env")
	}
	f, err := os.Open(envFile)
	switch {
	case err == nil:
		fileVars, perr := parseDotenv(f)
		f.Close()
		if perr != nil {
			return nil, fmt.Errorf("%s: %v", envFile, perr)
		}
		for k, val := range fileVars {
			switch {
			case lookup(k) != nil:
				raw[k] = val
				sources[k] = envFile
			case isGuideOnly(k):
				ignored = append(ignored, k)
			default:
				unknown = append(unknown, k)
			}
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading env file: %v", err)
	}

	for _, kv := range opts.Environ {
		k, val, _ := strings.Cut(kv, "=")
		if lookup(k) != nil {
			raw[k] = val
			sources[k] = "environment"
		} else if isGuideOnly(k) {
			ignored = append(ignored, k)
		}
	}
	for k, val := range opts.Flags {
		if lookup(k) == nil {
			return nil, fmt.Errorf("unknown setting %s", k)
		}
		raw[k] = val
		sources[k] = "flag"
	}

	c := &Config{Sources: sources, Ignored: dedupe(ignored), Unknown: dedupe(unknown)}
	for _, v := range vars {
		val := raw[v.name]
		if val == "" && v.def == "" {
			continue
		}
		if v.secret {
			if want := placeholderProblem(v.name, val); want != "" {
				return nil, &Error{Var: v.name, Value: val, Want: want, Secret: true}
			}
		}
		if err := v.set(c, val); err != nil {
			return nil, &Error{Var: v.name, Value: val, Want: err.Error(), Secret: v.secret}
		}
	}
	if err := c.derive(raw); err != nil {
		return nil, err
	}
	return c, nil
}

// derive fills the values that depend on several variables.
func (c *Config) derive(raw map[string]string) error {
	if c.DatabaseURL == "" && (raw["REGISTRY_DB_HOST"] != "" || raw["REGISTRY_DB_NAME"] != "" || raw["REGISTRY_DB_USER"] != "") {
		u := url.URL{
			Scheme:   "postgres",
			Host:     orDefault(raw["REGISTRY_DB_HOST"], "localhost") + ":" + orDefault(raw["REGISTRY_DB_PORT"], "5432"),
			Path:     "/" + orDefault(raw["REGISTRY_DB_NAME"], "dryad_registry"),
			RawQuery: "sslmode=disable",
		}
		user := orDefault(raw["REGISTRY_DB_USER"], "registry")
		if p := raw["REGISTRY_DB_PASSWORD"]; p != "" {
			u.User = url.UserPassword(user, p)
		} else {
			u.User = url.User(user)
		}
		c.DatabaseURL = u.String()
	}
	if c.RedisURL == "" && raw["REDIS_HOST"] != "" {
		u := url.URL{Scheme: "redis", Host: raw["REDIS_HOST"] + ":" + orDefault(raw["REDIS_PORT"], "6379"), Path: "/0"}
		if p := raw["REDIS_PASSWORD"]; p != "" {
			u.User = url.UserPassword("", p)
		}
		c.RedisURL = u.String()
	}
	if c.GitDir == "" {
		c.GitDir = filepath.Join(c.DataDir, "git")
	}
	if c.Profiling && (c.MetricsPort == 0 || !c.EnableMetrics) {
		// Never on the public port.
		return &Error{Var: "PROFILING", Value: "true", Want: "METRICS_PORT set (and ENABLE_METRICS=true): profiles are served only on the private metrics port"}
	}
	return c.checkS3()
}

// checkS3 makes sure BLOB_STORE=s3 comes with what it needs, and that S3
// settings are not silently ignored by a registry storing archives on its
// own disk.
func (c *Config) checkS3() error {
	if c.BlobStore != "s3" {
		if c.S3.Bucket != "" {
			return &Error{Var: "BLOB_STORE", Value: c.BlobStore, Want: "S3_BUCKET is set but archives are stored on disk; set BLOB_STORE=s3 to use the bucket, or remove the S3 settings"}
		}
		if c.S3.RedirectDownloads {
			return &Error{Var: "S3_REDIRECT_DOWNLOADS", Value: "true", Want: "needs BLOB_STORE=s3"}
		}
		return nil
	}
	for _, v := range []struct{ name, val string }{
		{"S3_BUCKET", c.S3.Bucket}, {"S3_ACCESS_KEY_ID", c.S3.AccessKeyID}, {"S3_SECRET_ACCESS_KEY", c.S3.SecretAccessKey},
	} {
		if v.val == "" {
			return &Error{Var: v.name, Want: "required with BLOB_STORE=s3"}
		}
	}
	return nil
}

// Addr is the host:port the server listens on.
func (c *Config) Addr() string { return joinHostPort(c.Host, c.Port) }

// MetricsAddr is where /metrics is served when it has its own port.
func (c *Config) MetricsAddr() string { return joinHostPort(c.Host, c.MetricsPort) }

// EnsureJWTSecret makes sure c.JWTSecret is set. When no secret was
// configured it reads DATA_DIR/jwt_secret, creating it with a random value
// (mode 0600) the first time, so restarts keep sessions valid. It reports
// whether a new secret was generated.
func (c *Config) EnsureJWTSecret() (generated bool, err error) {
	if c.JWTSecret != "" {
		return false, nil
	}
	path := filepath.Join(c.DataDir, "jwt_secret")
	c.JWTSecret, generated, err = secretFile(path, func() (string, error) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		return hex.EncodeToString(b[:]), nil
	})
	if err == nil && len(c.JWTSecret) < 16 {
		c.JWTSecret = ""
		return false, fmt.Errorf("%s: secret shorter than 16 bytes; delete the file to generate a new one", path)
	}
	return generated, err
}

// EnsureLogSigningKey makes sure c.LogSigningKey is set. When no key was
// configured it reads DATA_DIR/log_signing_key, creating it with a new
// Ed25519 note key named after DOMAIN (mode 0600) the first time: the log's
// checkpoints must be signed by the same key for ever. It reports whether a
// new key was generated.
func (c *Config) EnsureLogSigningKey() (generated bool, err error) {
	if c.LogSigningKey != "" {
		return false, nil
	}
	path := filepath.Join(c.DataDir, "log_signing_key")
	c.LogSigningKey, generated, err = secretFile(path, func() (string, error) {
		name := c.Domain
		if name == "" {
			name = "dryad-registry"
		}
		skey, _, err := note.GenerateKey(rand.Reader, name)
		return skey, err
	})
	if err == nil {
		if _, err := note.NewSigner(c.LogSigningKey); err != nil {
			c.LogSigningKey = ""
			return false, fmt.Errorf("%s: not a note signing key (%v); restore the file, or set LOG_SIGNING_KEY", path, err)
		}
	}
	return generated, err
}

// secretFile returns the secret kept in the file at path, first creating
// it (mode 0600, folders as needed) with a value from generate when there
// is none. Instances sharing the folder all end up with the first one's.
func secretFile(path string, generate func() (string, error)) (secret string, generated bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", false, err
	}
	secret, err = generate()
	if err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another instance sharing DATA_DIR won the race: use its secret.
		return secretFile(path, generate)
	}
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Close(); err != nil {
		return "", false, err
	}
	return secret, true, nil
}

// placeholders are the secret values shipped in the deployment guide and in
// deploy/.env.example: a registry must never run with them.
var placeholders = []string{
	"your_jwt_secret_key_here", "your-secret-key", "secret", "changeme", "change_me", "password",
}

func placeholderProblem(name, val string) string {
	l := strings.ToLower(val)
	for _, p := range placeholders {
		if l == p {
			return "a placeholder from the example configuration; set a random secret (openssl rand -hex 32)"
		}
	}
	if strings.HasPrefix(l, "change_this") || strings.HasPrefix(l, "change-this") || (strings.HasPrefix(l, "your_") && strings.HasSuffix(l, "_here")) {
		return "a placeholder from the example configuration; set a random secret (openssl rand -hex 32)"
	}
	if name == "JWT_SECRET" && len(val) < 16 {
		return "want at least 16 bytes (openssl rand -hex 32 makes a good one)"
	}
	return ""
}

func isGuideOnly(k string) bool {
	return strings.HasPrefix(k, "SMTP_") || strings.HasPrefix(k, "BACKUP_")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dedupe(s []string) []string {
	seen := make(map[string]bool)
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}

// mirrorVarRE finds the ${VAR} references of a GIT_MIRROR_URL template.
var mirrorVarRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// MirrorVars checks the git mirror settings and returns the values the
// GIT_MIRROR_URL template may name as ${VAR}: other settings (the
// environment is read only here), so that a token can stay in GITEA_TOKEN.
func (c *Config) MirrorVars() (map[string]string, error) {
	vars := map[string]string{
		"GITEA_TOKEN": c.GiteaToken, "GITEA_URL": c.GiteaURL, "GITEA_ORG": c.GiteaOrg, "DOMAIN": c.Domain,
	}
	for _, m := range mirrorVarRE.FindAllStringSubmatch(c.GitMirrorURL, -1) {
		v, ok := vars[m[1]]
		switch {
		case !ok:
			return nil, errs.Errorf(errs.Invalid,
				"GIT_MIRROR_URL names ${%s}; a mirror URL may use ${GITEA_TOKEN}, ${GITEA_URL}, ${GITEA_ORG} or ${DOMAIN}", m[1])
		case v == "":
			return nil, errs.Errorf(errs.Invalid, "GIT_MIRROR_URL uses ${%s}, which is not set", m[1])
		}
	}
	if c.GiteaURL != "" && c.GiteaToken == "" {
		return nil, errs.New(errs.Invalid, "GITEA_URL is set but GITEA_TOKEN is empty: set a token allowed to create repositories in GITEA_ORG")
	}
	return vars, nil
}
