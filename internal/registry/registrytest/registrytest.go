// Package registrytest runs a registry.Service on SQLite and the in-process drivers, for table tests of the registry's rules.
package registrytest

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/auth"
	blobfs "github.com/dryad-lang/registry/internal/blob/fs"
	cachememory "github.com/dryad-lang/registry/internal/cache/memory"
	limitmemory "github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/store/postgres"
	"github.com/dryad-lang/registry/internal/store/sqlite"
	"github.com/dryad-lang/registry/internal/testenv"
	"github.com/dryad-lang/registry/internal/tlog"
)

// Start is the time the clock of every new fixture shows: a fixed UTC
// instant, so that days, windows and expiries are the same on every run.
var Start = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// IP is the client address the helpers act from.
const IP = "192.0.2.1"

// jwtSecret keys the fixture's login tokens.
const jwtSecret = "registrytest-secret-0123456789abcdef"

// Option changes the service's options before it is built; the drivers a
// test leaves nil are filled in by New.
type Option func(*registry.Options)

// MaxPackageSize bounds uploads to n bytes.
func MaxPackageSize(n int64) Option {
	return func(o *registry.Options) { o.MaxPackageSize = n }
}

// SessionTimeout sets the lifetime of login tokens and web sessions.
func SessionTimeout(d time.Duration) Option {
	return func(o *registry.Options) { o.SessionTimeout = d }
}

// Postgres puts the registry's metadata in a new database of the test
// PostgreSQL server (testenv.PostgresURL) instead of SQLite, for rules
// whose concurrency only that engine's isolation puts to the test.
func Postgres(t testing.TB) Option {
	st, err := postgres.Open(context.Background(), testenv.NewPostgresDatabase(t))
	if err != nil {
		t.Fatalf("opening PostgreSQL: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return func(o *registry.Options) { o.Store = st }
}

// Observer sends the service's metrics events to obs.
func Observer(obs registry.Observer) Option {
	return func(o *registry.Options) { o.Observer = obs }
}

// Notifier sends the service's notices to n.
func Notifier(n registry.Notifier) Option {
	return func(o *registry.Options) { o.Notifier = n }
}

// Fixture is a registry service on real embedded engines, with a clock the
// test moves by hand. Its fields give tests what the service does not show:
// the stored rows and archives, the download flush lease, the clock.
type Fixture struct {
	// Service is the registry under test.
	Service *registry.Service
	// Store is the metadata store behind Service (SQLite unless Postgres).
	Store store.Store
	// Blobs holds the package archives.
	Blobs *blobfs.Store
	// Locker holds the service's leases (the download flush).
	Locker *cachememory.Locker
	// Clock is the time of the service, its signer, cache and limits.
	Clock *testenv.Clock
	// Hasher hashes the passwords, at the lowest bcrypt cost.
	Hasher *auth.Hasher
	// Signer issues and checks the login tokens.
	Signer *auth.Signer

	t testing.TB
}

// New returns a fixture whose files live in t.TempDir and whose store is
// closed when the test ends.
func New(t testing.TB, opts ...Option) *Fixture {
	t.Helper()
	dir := t.TempDir()
	clock := testenv.NewClock(Start)
	o := registry.Options{
		Logger:        slog.New(slog.DiscardHandler),
		Now:           clock.Now,
		ArchiveLimits: archive.DefaultLimits(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = auth.DefaultSessionTimeout
	}

	f := &Fixture{Clock: clock, t: t, Store: o.Store}
	var err error
	if f.Store == nil {
		st, err := sqlite.Open(context.Background(), filepath.Join(dir, "registry.db"))
		if err != nil {
			t.Fatalf("opening SQLite: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		f.Store = st
	}
	if f.Blobs, err = blobfs.Open(filepath.Join(dir, "packages")); err != nil {
		t.Fatalf("opening the blob store: %v", err)
	}
	if f.Hasher, err = auth.NewHasher(4); err != nil {
		t.Fatal(err)
	}
	if f.Signer, err = auth.NewSigner([]byte(jwtSecret), o.SessionTimeout); err != nil {
		t.Fatal(err)
	}
	f.Signer.Now = clock.Now
	f.Locker = cachememory.NewLocker(clock.Now)

	if o.Store == nil {
		o.Store = f.Store
	}
	if o.Blobs == nil {
		o.Blobs = f.Blobs
	}
	if o.Cache == nil {
		o.Cache = cachememory.NewCache(cachememory.CacheOptions{Now: clock.Now})
	}
	if o.Counters == nil {
		o.Counters = cachememory.NewCounters()
	}
	if o.Locker == nil {
		o.Locker = f.Locker
	}
	if o.Limiter == nil {
		o.Limiter = limitmemory.New(limitmemory.Options{Now: clock.Now})
	}
	if o.Hasher == nil {
		o.Hasher = f.Hasher
	}
	if o.Signer == nil {
		o.Signer = f.Signer
	}
	if o.LogSigner == nil {
		skey, err := tlog.GenerateKey("registrytest")
		if err != nil {
			t.Fatal(err)
		}
		if o.LogSigner, err = tlog.NewSigner(skey); err != nil {
			t.Fatal(err)
		}
	}
	if f.Service, err = registry.New(o); err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	return f
}

// Password is the password SignUp gives username.
func Password(username string) string { return "correct horse " + username }

// Email is the address SignUp gives username.
func Email(username string) string { return username + "@example.org" }

// SignUp registers username with Email and Password and returns the
// principal of a fresh login.
func (f *Fixture) SignUp(username string) *auth.Principal {
	f.t.Helper()
	_, err := f.Service.Register(context.Background(), registry.Registration{
		Username: username, Email: Email(username), Password: Password(username)}, IP)
	if err != nil {
		f.t.Fatalf("registering %s: %v", username, err)
	}
	return f.Login(username)
}

// LoginToken logs username in with Password and returns the login token.
func (f *Fixture) LoginToken(username string) string {
	f.t.Helper()
	res, err := f.Service.Login(context.Background(), username, Password(username), IP)
	if err != nil {
		f.t.Fatalf("logging in %s: %v", username, err)
	}
	return res.Token
}

// Login logs username in with Password and returns the principal of the
// login token.
func (f *Fixture) Login(username string) *auth.Principal {
	f.t.Helper()
	return f.Authenticate(f.LoginToken(username))
}

// Authenticate returns the principal of a login token or an API token
// secret; the test fails if the service refuses it.
func (f *Fixture) Authenticate(secret string) *auth.Principal {
	f.t.Helper()
	p, err := f.Service.AuthenticateHeader(context.Background(), "Bearer "+secret)
	if err != nil || p == nil {
		f.t.Fatalf("authenticating: %v (principal %v)", err, p)
	}
	return p
}

// Admin makes username an admin, creating the account (with Email and
// Password) when it does not exist, and returns the principal of a fresh
// login.
func (f *Fixture) Admin(username string) *auth.Principal {
	f.t.Helper()
	if _, err := f.Service.EnsureAdmin(context.Background(), username, Email(username), Password(username)); err != nil {
		f.t.Fatalf("making %s an admin: %v", username, err)
	}
	return f.Login(username)
}

// Token creates an API token for p (named "test" when r has no name) and
// returns the token's principal and the token as created.
func (f *Fixture) Token(p *auth.Principal, r registry.TokenRequest) (*auth.Principal, *registry.NewToken) {
	f.t.Helper()
	if r.Name == "" {
		r.Name = "test"
	}
	tok, err := f.Service.CreateToken(context.Background(), p, r, IP)
	if err != nil {
		f.t.Fatalf("creating a token for %s: %v", p.Username, err)
	}
	return f.Authenticate(tok.Secret), tok
}

// TryPublish publishes pkg's archive as p.
func (f *Fixture) TryPublish(p *auth.Principal, pkg testenv.Package) (*registry.Published, error) {
	f.t.Helper()
	return f.Service.Publish(context.Background(), p, bytes.NewReader(pkg.Archive(f.t)), IP)
}

// Publish publishes pkg's archive as p; the test fails if it is refused.
func (f *Fixture) Publish(p *auth.Principal, pkg testenv.Package) *registry.Published {
	f.t.Helper()
	pub, err := f.TryPublish(p, pkg)
	if err != nil {
		f.t.Fatalf("publishing %s@%s: %v", pkg.Name, pkg.Version, err)
	}
	return pub
}

// Archives counts the archives stored.
func (f *Fixture) Archives() int {
	f.t.Helper()
	n := 0
	if err := f.Blobs.Walk(context.Background(), func(string, int64) error { n++; return nil }); err != nil {
		f.t.Fatal(err)
	}
	return n
}
