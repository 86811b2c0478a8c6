package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Policy is one named limit of the registry's rate-limit table: the bucket
// shape, the key namespace its buckets live under and the words a refused
// client reads.
type Policy struct {
	// Name is the limit's key namespace and its metrics label.
	Name string
	// Limit is the bucket; a zero Rate turns the policy off.
	Limit Limit
	// Covers says which requests the policy counts, for people.
	Covers string
	// Setting names the configuration variable that changes the rate, if any.
	Setting string
	// Per names what one bucket counts: "client" (a user, or an address
	// for anonymous callers) unless set.
	Per string
	// Window, when set, describes the limit as Burst requests per Window
	// (a limit made by PerWindow) instead of a rate.
	Window time.Duration
}

// Off reports whether the policy is turned off (rate 0).
func (p Policy) Off() bool { return p.Limit.Rate <= 0 }

// Key is the limiter key of a client under this policy: a namespace per
// policy keeps each bucket's Limit the same on every call, as Limiter needs.
func (p Policy) Key(client string) string { return p.Name + ":" + client }

// Refusal is the error a client gets when the policy refuses it: 429 with
// Retry-After, and a message naming the limit and its size.
func (p Policy) Refusal(retryAfter time.Duration) error {
	return errs.RateLimit(retryAfter, fmt.Sprintf("too many requests for the %s limit (%s); retry after %s",
		p.Name, p.Describe(), RetrySeconds(retryAfter)+" s"))
}

// Describe writes the policy's shape: "100 requests a second per client, in bursts of 2000".
func (p Policy) Describe() string {
	if p.Off() {
		return "off"
	}
	who := p.Per
	if who == "" {
		who = "client"
	}
	if p.Window > 0 {
		return fmt.Sprintf("%d per %s per %s", p.Limit.Burst, humanDuration(p.Window), who)
	}
	per := "a second"
	rate := p.Limit.Rate
	switch {
	case rate < 1.0/60:
		rate, per = rate*3600, "an hour"
	case rate < 1:
		rate, per = rate*60, "a minute"
	}
	return fmt.Sprintf("%s requests %s per %s, in bursts of %d", strconv.FormatFloat(math.Round(rate*100)/100, 'f', -1, 64), per, who, p.Limit.Burst)
}

func humanDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

// Allow spends one request of client's budget under the policy. It returns
// the limiter's answer, and p.Refusal when the request must wait; a turned
// off policy allows everything without asking the limiter.
func (p Policy) Allow(ctx context.Context, l Limiter, client string) (Result, error) {
	if p.Off() || l == nil {
		return Result{Allowed: true}, nil
	}
	res, err := l.Allow(ctx, p.Key(client), p.Limit)
	if err != nil {
		return res, err
	}
	if !res.Allowed {
		return res, p.Refusal(res.RetryAfter)
	}
	return res, nil
}

// RetrySeconds writes a Retry-After value: whole seconds, at least 1.
func RetrySeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// Rates are the configured rates of the table, requests per second per
// client; 0 turns a limit off.
type Rates struct {
	Install float64 // INSTALL_RATE_LIMIT
	API     float64 // API_RATE_LIMIT
	Upload  float64 // UPLOAD_RATE_LIMIT
}

// Burst factors: how many requests each limit allows at once, as a multiple
// of its rate. An install of a project fetches the metadata and the archive
// of every dependency in one go (Oak sends them all at once and takes a 429
// for a missing package), so its burst covers 1000 requests at the default
// rate: 500 dependencies.
const (
	installBurstSeconds = 20
	apiBurstSeconds     = 2
	uploadBurstSeconds  = 2.5
	uploadMinBurst      = 5
)

// Table is the registry's rate-limit policy: every limit the registry
// applies, in one place, so that the application, the nginx template and
// the documentation can say the same thing.
type Table struct {
	// Install counts the requests of an install, which are read-only and
	// cacheable: GET /api/packages/{name}, archive downloads and
	// GET /api/health.
	Install Policy
	// API counts every other API request, writes among them (login,
	// register, tokens, owners, yank, delete).
	API Policy
	// Upload counts publishes, through the API and the web upload page.
	Upload Policy
	// Form counts sign-in and registration posts of the web interface.
	Form Policy
	// LoginPair, LoginAccount and LoginClient count failed logins per
	// account and address, per account and per address: brute-force
	// protection, not configurable.
	LoginPair    Policy
	LoginAccount Policy
	LoginClient  Policy
}

// NewTable returns the policy table for the configured rates.
func NewTable(r Rates) Table {
	burst := func(rate, seconds float64, least int) int {
		return max(least, int(math.Ceil(rate*seconds)))
	}
	return Table{
		Install: Policy{Name: "install", Setting: "INSTALL_RATE_LIMIT",
			Limit:  Limit{Rate: r.Install, Burst: burst(r.Install, installBurstSeconds, 1)},
			Covers: "GET /api/packages/{name}, archive downloads, GET /api/health"},
		API: Policy{Name: "api", Setting: "API_RATE_LIMIT",
			Limit:  Limit{Rate: r.API, Burst: burst(r.API, apiBurstSeconds, 1)},
			Covers: "every other /api request: login, register, tokens, owners, yank, delete, search, versions"},
		Upload: Policy{Name: "upload", Setting: "UPLOAD_RATE_LIMIT",
			Limit:  Limit{Rate: r.Upload, Burst: burst(r.Upload, uploadBurstSeconds, uploadMinBurst)},
			Covers: "POST /api/upload and the web upload page"},
		Form: Policy{Name: "webform", Setting: "API_RATE_LIMIT",
			Limit:  Limit{Rate: r.API, Burst: burst(r.API, apiBurstSeconds, 1)},
			Covers: "sign-in and registration forms of the web interface"},
		LoginPair:    LoginPair,
		LoginAccount: LoginAccount,
		LoginClient:  LoginClient,
	}
}

// The brute-force limits on failed logins, the same whatever the
// configuration, each over 15 minutes. An account is counted as itself,
// whichever spelling (username or e-mail, any case) the attempts used.
//   - LoginPair: 5 failures of one address on one account refuse that
//     address for that account; the owner's own address keeps working.
//   - LoginAccount: past 20 failures on an account from everywhere, an
//     address that has failed on it is refused after its first failure, so
//     many addresses together get few guesses; an address that has not
//     failed on it (its owner's) still logs in.
//   - LoginClient: 20 failures from one address, on any accounts, refuse
//     that address (password spraying).
var (
	LoginPair = Policy{Name: "login:pair", Limit: PerWindow(5, 15*time.Minute), Window: 15 * time.Minute,
		Per: "account and address", Covers: "failed logins (API and web)"}
	LoginAccount = Policy{Name: "login:acct", Limit: PerWindow(20, 15*time.Minute), Window: 15 * time.Minute,
		Per: "account", Covers: "failed logins from every address; past it, addresses that failed on the account are refused"}
	LoginClient = Policy{Name: "login:ip", Limit: PerWindow(20, 15*time.Minute), Window: 15 * time.Minute,
		Per: "address", Covers: "failed logins (API and web)"}
)

// All lists the table's policies in the order the documentation gives them.
func (t Table) All() []Policy {
	return []Policy{t.Install, t.API, t.Upload, t.Form, t.LoginPair, t.LoginAccount, t.LoginClient}
}
