package config

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Print writes the effective configuration as KEY=value lines, with every
// secret masked, followed by where each value came from.
func (c *Config) Print(w io.Writer) error {
	for _, kv := range c.Effective() {
		src := c.Sources[kv[0]]
		if src == "" {
			src = "derived"
		}
		if _, err := fmt.Fprintf(w, "%s=%s\t# %s\n", kv[0], kv[1], src); err != nil {
			return err
		}
	}
	return nil
}

// Effective returns each setting's effective value, secrets masked.
func (c *Config) Effective() [][2]string {
	var proxies []string
	for _, p := range c.TrustedProxies {
		proxies = append(proxies, p.String())
	}
	vals := map[string]string{
		"HOST":                  c.Host,
		"PORT":                  strconv.Itoa(c.Port),
		"DATA_DIR":              c.DataDir,
		"DOMAIN":                c.Domain,
		"PUBLIC_URL":            c.PublicURL,
		"REGISTRY_NAME":         c.RegistryName,
		"REGISTRY_DESCRIPTION":  c.RegistryDescription,
		"JWT_SECRET":            mask(c.JWTSecret),
		"LOG_SIGNING_KEY":       mask(c.LogSigningKey),
		"SESSION_TIMEOUT":       FormatDuration(c.SessionTimeout),
		"BCRYPT_COST":           strconv.Itoa(c.BcryptCost),
		"MAX_PACKAGE_SIZE":      FormatSize(c.MaxPackageSize),
		"MAX_UNPACKED_SIZE":     FormatSize(c.MaxUnpackedSize),
		"UPLOAD_TIMEOUT":        FormatDuration(c.UploadTimeout),
		"ORPHAN_QUARANTINE":     FormatDuration(c.OrphanQuarantine),
		"ARCHIVE_CACHE_SIZE":    FormatSize(c.ArchiveCacheSize),
		"DATABASE_URL":          MaskURL(c.DatabaseURL),
		"REDIS_URL":             MaskURL(c.RedisURL),
		"BLOB_STORE":            c.BlobStore,
		"S3_ENDPOINT":           c.S3.Endpoint,
		"S3_BUCKET":             c.S3.Bucket,
		"S3_REGION":             c.S3.Region,
		"S3_ACCESS_KEY_ID":      c.S3.AccessKeyID,
		"S3_SECRET_ACCESS_KEY":  mask(c.S3.SecretAccessKey),
		"S3_PREFIX":             c.S3.Prefix,
		"S3_FORCE_PATH_STYLE":   strconv.FormatBool(c.S3.ForcePathStyle),
		"S3_REDIRECT_DOWNLOADS": strconv.FormatBool(c.S3.RedirectDownloads),
		"GIT_DIR":               c.GitDir,
		"GIT_PER_INSTANCE":      strconv.FormatBool(c.GitPerInstance),
		"NOTIFY_EMAIL_COMMAND":  strings.Join(c.NotifyEmailCommand, " "),
		"NOTIFY_EMAIL_FROM":     c.NotifyEmailFrom,
		"GIT_MIRROR_URL":        MaskURL(c.GitMirrorURL),
		"GITEA_URL":             c.GiteaURL,
		"GITEA_TOKEN":           mask(c.GiteaToken),
		"GITEA_ORG":             c.GiteaOrg,
		"WEBHOOK_ALLOW_PRIVATE": strconv.FormatBool(c.WebhookAllowPrivate),
		"WEBHOOK_RETRY_BASE":    FormatDuration(c.WebhookRetryBase),
		"WEBHOOK_MAX_ATTEMPTS":  strconv.Itoa(c.WebhookMaxAttempts),
		"INSTALL_RATE_LIMIT":    strconv.FormatFloat(c.InstallRateLimit, 'g', -1, 64),
		"API_RATE_LIMIT":        strconv.FormatFloat(c.APIRateLimit, 'g', -1, 64),
		"UPLOAD_RATE_LIMIT":     strconv.FormatFloat(c.UploadRateLimit, 'g', -1, 64),
		"TRUSTED_PROXIES":       strings.Join(proxies, ","),
		"ALLOWED_ORIGINS":       strings.Join(c.AllowedOrigins, ","),
		"LOG_LEVEL":             logLevelString(c.LogLevel),
		"LOG_FORMAT":            c.LogFormat,
		"ENABLE_METRICS":        strconv.FormatBool(c.EnableMetrics),
		"METRICS_PORT":          strconv.Itoa(c.MetricsPort),
		"PROFILING":             strconv.FormatBool(c.Profiling),
	}
	var out [][2]string
	for _, v := range vars {
		val, ok := vals[v.name]
		if !ok {
			continue // parts of a URL shown whole above
		}
		out = append(out, [2]string{v.name, val})
	}
	return out
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

// MaskURL hides the password (and any token-looking user name) of a URL so
// it can be printed or logged.
func MaskURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "********"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "********")
		} else if u.User.Username() != "" && strings.Contains(s, "${") {
			u.User = url.User("********")
		}
	}
	return u.String()
}
