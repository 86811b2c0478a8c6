package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Load(Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4000 || c.Host != "127.0.0.1" || c.DataDir != "./data" {
		t.Errorf("listen defaults: %s:%d %s", c.Host, c.Port, c.DataDir)
	}
	if c.MaxPackageSize != 100<<20 || c.UploadTimeout != 300*time.Second || c.SessionTimeout != 7*24*time.Hour {
		t.Errorf("limits: %d %v %v", c.MaxPackageSize, c.UploadTimeout, c.SessionTimeout)
	}
	if c.APIRateLimit != 10 || c.UploadRateLimit != 2 || c.DatabaseURL != "" || c.RedisURL != "" {
		t.Errorf("rates/backends: %v %v %q %q", c.APIRateLimit, c.UploadRateLimit, c.DatabaseURL, c.RedisURL)
	}
	if c.GitDir != filepath.Join("./data", "git") || c.BcryptCost != 12 || !c.EnableMetrics {
		t.Errorf("git dir %q cost %d metrics %v", c.GitDir, c.BcryptCost, c.EnableMetrics)
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	env := "# comment\nPORT=5000\nHOST=0.0.0.0\nexport LOG_LEVEL=debug\nREGISTRY_NAME=\"My \\\"Reg\\\"\"\nREGISTRY_DESCRIPTION='a b # c'\nLOG_FORMAT=json # trailing\nSMTP_HOST=mail\nBACKUP_RETENTION_DAYS=7\nWHATEVER=1\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{
		WorkDir: dir,
		Environ: []string{"PORT=6000", "HOST=10.0.0.1", "PATH=/bin"},
		Flags:   map[string]string{"PORT": "7000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7000 {
		t.Errorf("flag should win: port %d", c.Port)
	}
	if c.Host != "10.0.0.1" {
		t.Errorf("environment should beat .env: host %q", c.Host)
	}
	if c.LogLevel.String() != "DEBUG" || c.LogFormat != "json" {
		t.Errorf(".env values: %v %q", c.LogLevel, c.LogFormat)
	}
	if c.RegistryName != `My "Reg"` || c.RegistryDescription != "a b # c" {
		t.Errorf("quoting: %q %q", c.RegistryName, c.RegistryDescription)
	}
	if strings.Join(c.Ignored, ",") != "SMTP_HOST,BACKUP_RETENTION_DAYS" && strings.Join(c.Ignored, ",") != "BACKUP_RETENTION_DAYS,SMTP_HOST" {
		t.Errorf("ignored = %v", c.Ignored)
	}
	if len(c.Unknown) != 1 || c.Unknown[0] != "WHATEVER" {
		t.Errorf("unknown = %v", c.Unknown)
	}
	if c.Sources["PORT"] != "flag" || c.Sources["HOST"] != "environment" || c.Sources["DATA_DIR"] != "default" {
		t.Errorf("sources = %v", c.Sources)
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		env  string
		want string
	}{
		{"MAX_PACKAGE_SIZE=lots", `MAX_PACKAGE_SIZE="lots": want a size such as 100MB`},
		{"MAX_PACKAGE_SIZE=0", `MAX_PACKAGE_SIZE="0": want a size such as 100MB`},
		{"UPLOAD_TIMEOUT=soon", `UPLOAD_TIMEOUT="soon": want a duration such as 300s, 5m or 300`},
		{"PORT=99999", `PORT="99999": want a port number from 0 to 65535`},
		{"LOG_FORMAT=xml", `LOG_FORMAT="xml": want text or json`},
		{"LOG_LEVEL=loud", `LOG_LEVEL="loud": want debug, info, warn or error`},
		{"DATABASE_URL=mysql://x", `DATABASE_URL="********": want empty (SQLite in DATA_DIR) or a postgres:// URL`},
		{"REDIS_URL=http://x", `REDIS_URL="********": want empty (in-process) or a redis:// URL such as redis://:password@127.0.0.1:6379/0`},
		{"API_RATE_LIMIT=-1", `API_RATE_LIMIT="-1": want a number of requests per second such as 10 (0 disables the limit)`},
		{"ENABLE_METRICS=maybe", `ENABLE_METRICS="maybe": want true or false`},
		{"TRUSTED_PROXIES=10.0.0.0/8,nope", `TRUSTED_PROXIES="10.0.0.0/8,nope": want comma-separated CIDRs such as 127.0.0.1/32,10.0.0.0/8; "nope" is not one`},
		{"PUBLIC_URL=registry.example.org", `PUBLIC_URL="registry.example.org": want an absolute http(s) URL such as https://registry.example.org`},
		{"JWT_SECRET=your_jwt_secret_key_here", `JWT_SECRET="********": a placeholder from the example configuration; set a random secret (openssl rand -hex 32)`},
		{"JWT_SECRET=change_this_to_a_long_random_string", `JWT_SECRET="********": a placeholder from the example configuration; set a random secret (openssl rand -hex 32)`},
		{"JWT_SECRET=short", `JWT_SECRET="********": want at least 16 bytes (openssl rand -hex 32 makes a good one)`},
		{"REDIS_PASSWORD=change_this_redis_password", `REDIS_PASSWORD="********": a placeholder from the example configuration; set a random secret (openssl rand -hex 32)`},
		{"BLOB_STORE=disk", `BLOB_STORE="disk": want fs or s3`},
		{"S3_REDIRECT_DOWNLOADS=true", `S3_REDIRECT_DOWNLOADS="true": needs BLOB_STORE=s3`},
		{"S3_ENDPOINT=minio:9000", `S3_ENDPOINT="minio:9000": want http://host:port or https://host, with no path or credentials`},
		{"S3_ENDPOINT=http://minio:9000/bucket", `S3_ENDPOINT="http://minio:9000/bucket": want http://host:port or https://host, with no path or credentials`},
		{"S3_FORCE_PATH_STYLE=sometimes", `S3_FORCE_PATH_STYLE="sometimes": want true or false`},
		{"SESSION_TIMEOUT=5s", `SESSION_TIMEOUT="5s": want a duration of at least a minute such as 7d, 24h or 3600 (seconds)`},
	}
	for _, tt := range tests {
		_, err := Load(Options{WorkDir: t.TempDir(), Environ: []string{tt.env}})
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want *Error", tt.env, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.env, err, tt.want)
		}
		if strings.Contains(err.Error(), "change_this") || strings.Contains(err.Error(), "your_jwt") {
			t.Errorf("secret value printed: %s", err)
		}
	}
}

func TestComposedURLs(t *testing.T) {
	c, err := Load(Options{WorkDir: t.TempDir(), Environ: []string{
		"REGISTRY_DB_HOST=db", "REGISTRY_DB_USER=reg", "REGISTRY_DB_PASSWORD=s3cr3t-pässword", "REGISTRY_DB_NAME=dryad",
		"REDIS_HOST=cache", "REDIS_PASSWORD=r3dis-pass-123",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://reg:s3cr3t-p%C3%A4ssword@db:5432/dryad?sslmode=disable" {
		t.Errorf("DatabaseURL = %s", c.DatabaseURL)
	}
	if c.RedisURL != "redis://:r3dis-pass-123@cache:6379/0" {
		t.Errorf("RedisURL = %s", c.RedisURL)
	}
	var b strings.Builder
	c.Print(&b)
	if strings.Contains(b.String(), "s3cr3t") || strings.Contains(b.String(), "r3dis-pass") {
		t.Errorf("secret printed:\n%s", b.String())
	}
}

func TestS3Settings(t *testing.T) {
	full := []string{"BLOB_STORE=s3", "S3_ENDPOINT=http://minio:9000/", "S3_BUCKET=packages", "S3_ACCESS_KEY_ID=registry",
		"S3_SECRET_ACCESS_KEY=0123456789abcdef-s3", "S3_PREFIX=/dryad/", "S3_FORCE_PATH_STYLE=true", "S3_REDIRECT_DOWNLOADS=yes"}
	c, err := Load(Options{WorkDir: t.TempDir(), Environ: full})
	if err != nil {
		t.Fatal(err)
	}
	want := S3{Endpoint: "http://minio:9000", Bucket: "packages", Region: "us-east-1", AccessKeyID: "registry",
		SecretAccessKey: "0123456789abcdef-s3", Prefix: "dryad/", ForcePathStyle: true, RedirectDownloads: true}
	if c.BlobStore != "s3" || c.S3 != want {
		t.Errorf("BlobStore = %q, S3 = %+v", c.BlobStore, c.S3)
	}
	var b strings.Builder
	c.Print(&b)
	if strings.Contains(b.String(), "0123456789abcdef-s3") || !strings.Contains(b.String(), "S3_BUCKET=packages") {
		t.Errorf("printed:\n%s", b.String())
	}

	if c, err := Load(Options{WorkDir: t.TempDir()}); err != nil || c.BlobStore != "fs" {
		t.Errorf("default BLOB_STORE = %q, %v", c.BlobStore, err)
	}
	for _, tt := range []struct {
		drop, want string
	}{
		{"S3_BUCKET", `S3_BUCKET="": required with BLOB_STORE=s3`},
		{"S3_ACCESS_KEY_ID", `S3_ACCESS_KEY_ID="": required with BLOB_STORE=s3`},
		{"S3_SECRET_ACCESS_KEY", `S3_SECRET_ACCESS_KEY="": required with BLOB_STORE=s3`},
		{"BLOB_STORE", `BLOB_STORE="fs": S3_BUCKET is set but archives are stored on disk; set BLOB_STORE=s3 to use the bucket, or remove the S3 settings`},
	} {
		var env []string
		for _, kv := range full {
			if !strings.HasPrefix(kv, tt.drop+"=") {
				env = append(env, kv)
			}
		}
		_, err := Load(Options{WorkDir: t.TempDir(), Environ: env})
		var ce *Error
		if !errors.As(err, &ce) || err.Error() != tt.want {
			t.Errorf("without %s: %v, want %s", tt.drop, err, tt.want)
		}
	}
}

func TestExplicitEnvFileMustExist(t *testing.T) {
	_, err := Load(Options{EnvFile: filepath.Join(t.TempDir(), "missing.env")})
	if err == nil {
		t.Fatal("missing --env-file accepted")
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	c, err := Load(Options{WorkDir: t.TempDir(), Environ: []string{
		"JWT_SECRET=0123456789abcdef0123", "DATABASE_URL=postgres://u:hunter2hunter2@h/db", "GITEA_TOKEN=tok-abcdef",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := c.Print(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, secret := range []string{"0123456789abcdef0123", "hunter2hunter2", "tok-abcdef"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %q printed:\n%s", secret, out)
		}
	}
	for _, want := range []string{"PORT=4000\t# default", "JWT_SECRET=********\t# environment", "DATABASE_URL=postgres://u:%2A%2A%2A%2A%2A%2A%2A%2A@h/db", "MAX_PACKAGE_SIZE=100MB"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestEnsureJWTSecret(t *testing.T) {
	dir := t.TempDir()
	c := &Config{DataDir: filepath.Join(dir, "data")}
	gen, err := c.EnsureJWTSecret()
	if err != nil || !gen || len(c.JWTSecret) != 64 {
		t.Fatalf("first: gen=%v err=%v len=%d", gen, err, len(c.JWTSecret))
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "jwt_secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	c2 := &Config{DataDir: c.DataDir}
	gen, err = c2.EnsureJWTSecret()
	if err != nil || gen || c2.JWTSecret != c.JWTSecret {
		t.Fatalf("second start should reuse the secret: gen=%v err=%v", gen, err)
	}
}

func TestUnits(t *testing.T) {
	sizes := map[string]int64{"100MB": 100 << 20, "100MiB": 100 << 20, "512KB": 512 << 10, "1048576": 1 << 20, "1g": 1 << 30, "2 GiB": 2 << 30, "1.5MB": 3 << 19, "10b": 10}
	for in, want := range sizes {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "MB", "1.5", "99999999999999999999"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	durs := map[string]time.Duration{"300s": 300 * time.Second, "5m": 5 * time.Minute, "300": 300 * time.Second, "7d": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute}
	for in, want := range durs {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "-5s", "5x", "d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	if FormatSize(100<<20) != "100MB" || FormatDuration(7*24*time.Hour) != "7d" || FormatDuration(300*time.Second) != "300s" {
		t.Error("format round trip")
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KB", 1536: "1.5 KB", 100 << 20: "100 MB", 3 << 30: "3 GB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestEnsureLogSigningKey(t *testing.T) {
	dir := t.TempDir()
	c := &Config{DataDir: filepath.Join(dir, "data"), Domain: "registry.example"}
	gen, err := c.EnsureLogSigningKey()
	if err != nil || !gen || !strings.HasPrefix(c.LogSigningKey, "PRIVATE+KEY+registry.example+") {
		t.Fatalf("first: gen=%v err=%v key=%.30s", gen, err, c.LogSigningKey)
	}
	path := filepath.Join(dir, "data", "log_signing_key")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	c2 := &Config{DataDir: c.DataDir}
	if gen, err := c2.EnsureLogSigningKey(); err != nil || gen || c2.LogSigningKey != c.LogSigningKey {
		t.Fatalf("second start should reuse the key: gen=%v err=%v", gen, err)
	}
	os.WriteFile(path, []byte("garbage\n"), 0o600)
	if _, err := (&Config{DataDir: c.DataDir}).EnsureLogSigningKey(); err == nil {
		t.Error("a damaged key file was accepted")
	}
	if _, err := Load(Options{WorkDir: dir, Environ: []string{"LOG_SIGNING_KEY=nope"}}); err == nil || !strings.Contains(err.Error(), "LOG_SIGNING_KEY") {
		t.Errorf("bad LOG_SIGNING_KEY: %v", err)
	}
}
