// Package store declares the registry's metadata store: the records it keeps
// (users, tokens, sessions, packages, versions, owners, downloads, audit
// events, git jobs) and the operations the registry service needs on them.
//
// Drivers live in subpackages (sqlite, postgres) and pass one conformance
// suite (storetest). The store enforces data integrity (uniqueness, foreign
// keys) and reports it with error kinds from internal/errs: a missing record
// is errs.NotFound, a duplicate errs.Conflict. Business rules (who may
// publish, what "latest" means) belong to internal/registry, which combines
// these operations inside Transact.
package store

import (
	"context"
	"time"
)

// Store is a metadata store. Its Queries run outside any transaction.
type Store interface {
	Queries
	// Transact runs fn in one read-write transaction: everything fn does is
	// committed together, or nothing is when fn returns an error. A driver
	// may run fn again after a serialization failure, so fn must not have
	// side effects outside the transaction.
	Transact(ctx context.Context, fn func(tx Queries) error) error
	// Snapshot runs fn in one read-only transaction that sees a consistent
	// snapshot of the whole store (used by backups).
	Snapshot(ctx context.Context, fn func(tx Queries) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Stats describes the connection pool, for metrics.
	Stats() PoolStats
	// Driver names the engine: "sqlite" or "postgres".
	Driver() string
	// RegistryID returns the registry identity InitRegistryID stored, ""
	// when none was.
	RegistryID(ctx context.Context) (string, error)
	// InitRegistryID stores id as the registry identity unless one is
	// stored already, and returns the stored one; concurrent callers all
	// get the same.
	InitRegistryID(ctx context.Context, id string) (string, error)
	// Close releases the store's connections.
	Close() error
}

// Queries are the operations on the store, available both directly and
// inside a transaction.
type Queries interface {
	UserQueries
	TokenQueries
	SessionQueries
	PackageQueries
	VersionQueries
	OwnerQueries
	DownloadQueries
	AuditQueries
	GitJobQueries
	LogQueries
	WebhookQueries
}

// PoolStats describes a store's connection pool.
type PoolStats struct {
	MaxOpen, Open, InUse, Idle int
	WaitCount                  int64
	WaitDuration               time.Duration
}

// Roles of users.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is a registry account.
type User struct {
	ID           int64
	Username     string
	Email        string
	FullName     string
	PasswordHash string
	Role         string
	Disabled     bool
	// CredentialVersion changes whenever the password changes or the
	// account is disabled; login tokens and sessions carry the value they
	// were issued under and are refused once it differs.
	CredentialVersion int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LastLoginAt       *time.Time
}

// UserFilter selects users for ListUsers.
type UserFilter struct {
	// Query matches a substring of the username, email or full name.
	Query         string
	Limit, Offset int
}

// UserQueries manage accounts. Usernames and emails are unique without
// regard to letter case.
type UserQueries interface {
	// CreateUser inserts u and sets its ID and timestamps. A username or
	// email already taken is errs.Conflict.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id int64) (*User, error)
	// GetUserByName finds a user by username, ignoring case.
	GetUserByName(ctx context.Context, username string) (*User, error)
	// GetUserByLogin finds a user by username or email, ignoring case.
	GetUserByLogin(ctx context.Context, login string) (*User, error)
	// ListUsers returns a page of users ordered by username, and the total.
	ListUsers(ctx context.Context, f UserFilter) ([]User, int, error)
	// UpdateUser writes FullName, Email, PasswordHash, Role, Disabled and
	// CredentialVersion of u.
	UpdateUser(ctx context.Context, u *User) error
	// TouchLogin records a successful login.
	TouchLogin(ctx context.Context, id int64, at time.Time) error
	CountUsers(ctx context.Context) (int64, error)
}

// Token is an API token. Only the SHA-256 of its secret is stored.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	Hash       string
	Scopes     []string
	Packages   []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// TokenQueries manage API tokens.
type TokenQueries interface {
	CreateToken(ctx context.Context, t *Token) error
	// GetTokenByHash finds a token by the hash of its secret, revoked or not.
	GetTokenByHash(ctx context.Context, hash string) (*Token, error)
	// ListTokens returns a user's tokens that are not revoked, newest first.
	ListTokens(ctx context.Context, userID int64) ([]Token, error)
	// RevokeToken revokes one of the user's tokens; errs.NotFound if the
	// user has no such live token.
	RevokeToken(ctx context.Context, userID, tokenID int64, at time.Time) error
	// RevokeUserTokens revokes every live token of the user.
	RevokeUserTokens(ctx context.Context, userID int64, at time.Time) error
	// TouchToken records a use of the token.
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// Session is a web browser session. Only the hash of its id is stored.
type Session struct {
	IDHash            string
	UserID            int64
	CredentialVersion int64
	CreatedAt         time.Time
	ExpiresAt         time.Time
}

// SessionQueries manage web sessions.
type SessionQueries interface {
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, idHash string) (*Session, error)
	DeleteSession(ctx context.Context, idHash string) error
	DeleteUserSessions(ctx context.Context, userID int64) error
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// Package is a named package. Its descriptive fields are those of its latest
// version, kept here for listing and search.
type Package struct {
	ID int64
	// Name is the name as first published; NormalizedName ('_' as '-') is
	// what makes two names the same.
	Name           string
	NormalizedName string
	Description    string
	Keywords       []string
	Homepage       string
	Repository     string
	License        string
	// Latest is the version installs get by default ("" when none is left).
	Latest    string
	Downloads int64
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
	// Mirror state of the package's git repository.
	MirrorPushedAt *time.Time
	MirrorError    string
}

// PackageQueries manage packages.
type PackageQueries interface {
	// CreatePackage inserts p; a name taken (after normalisation) is
	// errs.Conflict.
	CreatePackage(ctx context.Context, p *Package) error
	// GetPackage finds a package by normalised name, deleted or not.
	GetPackage(ctx context.Context, normalizedName string) (*Package, error)
	GetPackageByID(ctx context.Context, id int64) (*Package, error)
	// LockPackage is GetPackage that also holds the package's row until the
	// transaction ends, serialising changes to one package.
	LockPackage(ctx context.Context, normalizedName string) (*Package, error)
	// LockPackageShared is GetPackage that holds the package's row against
	// LockPackage (other shared holders may proceed) until the transaction
	// ends: a rule read about another package (a dependency has a live
	// version in range) stays true until the reader commits.
	LockPackageShared(ctx context.Context, normalizedName string) (*Package, error)
	// UpdatePackage writes the descriptive fields, Latest, UpdatedAt and
	// DeletedAt of p.
	UpdatePackage(ctx context.Context, p *Package) error
	// SetMirrorState records the outcome of the last mirror push.
	SetMirrorState(ctx context.Context, packageID int64, pushedAt *time.Time, lastError string) error
	// MirrorSummary sums up the mirror state of every package, with up to
	// limit of the failing ones (by name), for the health endpoint.
	MirrorSummary(ctx context.Context, limit int) (*MirrorSummary, error)
	// SearchPackages lists packages that are not deleted and have a latest
	// version, ranked as SearchQuery describes.
	SearchPackages(ctx context.Context, q SearchQuery) (*SearchResult, error)
	// ListUserPackages lists the packages a user owns (deleted ones too).
	ListUserPackages(ctx context.Context, userID int64) ([]Package, error)
	// Dependents lists packages with a live version that depends on the
	// package (by normalised name), with the ranges they use.
	Dependents(ctx context.Context, normalizedName string) ([]Dependent, error)
	// DependentVersions lists every version, neither yanked nor deleted,
	// of every package not deleted whose runtime dependencies name the
	// package (by normalised name), ordered by package name then
	// publishing order: all the resolutions a change to it may move.
	DependentVersions(ctx context.Context, normalizedName string) ([]DependentVersion, error)
	// Totals counts what the registry holds.
	Totals(ctx context.Context) (*Totals, error)
}

// Sort orders of SearchQuery.
const (
	SortRelevance = "relevance"
	SortDownloads = "downloads"
	SortRecent    = "recent"
	SortName      = "name"
)

// SearchQuery selects and orders packages. With a query and relevance order,
// packages rank by tiers: exact name, then name prefix, then name containing
// the query, then all query words among the keywords, then any other text
// match (name, keywords, description); ties go to more downloads, then name.
//
// Keyword, when set, keeps only the packages having it among their
// keywords (whole keyword, as stored: lower case). Owner, when set, keeps
// only the packages the user of that username (any case) owns.
// UpdatedSince, when set, keeps only the packages updated at or after it.
// The filters combine with each other and with Text.
type SearchQuery struct {
	// NoTotal leaves SearchResult.Total at 0: counting every match reads
	// them all, which a list that shows only its first page (the home
	// page's) does not need.
	NoTotal       bool
	Text          string
	Keyword       string
	Owner         string
	UpdatedSince  time.Time
	Sort          string
	Limit, Offset int
}

// TrendingPackage is a package with its downloads over a recent period.
type TrendingPackage struct {
	Package
	Recent int64
}

// SearchResult is one page of a search.
type SearchResult struct {
	Packages []Package
	Total    int
}

// Dependent is a package whose live versions depend on another package.
type Dependent struct {
	Name    string
	Version string
	Range   string
}

// DependentVersion is one live version of a package that depends on
// another package, with the range it asks for.
type DependentVersion struct {
	PackageID int64
	// Package is the dependent package's name as first published.
	Package string
	Version string
	Range   string
}

// MirrorSummary is the mirror state of the whole registry.
type MirrorSummary struct {
	// Pushed counts the packages pushed at least once; LastPushedAt is the
	// most recent push of any package.
	Pushed       int64
	LastPushedAt *time.Time
	// Failing counts the packages whose last push failed; Failures lists
	// some of them.
	Failing  int64
	Failures []MirrorFailure
}

// MirrorFailure is a package whose last mirror push failed.
type MirrorFailure struct {
	Package string
	Error   string
}

// Totals are registry-wide counts.
type Totals struct {
	Packages, Versions, Users, Downloads int64
}

// Version is one published version of a package. Rows are never removed:
// a deleted version keeps its row so its name@version is never reused.
type Version struct {
	ID        int64
	PackageID int64
	// Version is the version as published; Key is the same without build
	// metadata, which SemVer ignores for precedence, and is what is unique.
	Version  string
	Key      string
	Manifest []byte
	// Checksum is the lowercase hex SHA-256 of the stored canonical archive.
	Checksum     string
	Size         int64
	UnpackedSize int64
	FileCount    int
	Readme       string
	ReadmeHTML   string
	Dependencies []Dependency
	Yanked       bool
	YankedAt     *time.Time
	DeletedAt    *time.Time
	PublishedAt  time.Time
	PublisherID  int64
	// Publisher is the publisher's username (filled on reads).
	Publisher string
	GitCommit string
	Downloads int64
}

// Dependency is one entry of a version's dependencies or dev_dependencies.
type Dependency struct {
	Name  string
	Range string
	Dev   bool
}

// VersionQueries manage versions.
type VersionQueries interface {
	// CreateVersion inserts v with its dependencies; a version key already
	// used in the package (even deleted) is errs.Conflict.
	CreateVersion(ctx context.Context, v *Version) error
	// ListVersions returns every version of a package, deleted ones
	// included, with dependencies, in publish order.
	ListVersions(ctx context.Context, packageID int64) ([]Version, error)
	// GetVersion finds a version by its key, deleted or not.
	GetVersion(ctx context.Context, packageID int64, key string) (*Version, error)
	SetYanked(ctx context.Context, versionID int64, yanked bool, at time.Time) error
	MarkVersionDeleted(ctx context.Context, versionID int64, at time.Time) error
	SetGitCommit(ctx context.Context, versionID int64, commit string) error
	// AllVersions calls fn for every version of every package, in id order
	// (for verify and backup); fn's error stops the walk. The rows are
	// streamed, so fn must not run queries on the same transaction.
	AllVersions(ctx context.Context, fn func(pkg *Package, v *Version) error) error
}

// Owner is a user who owns a package.
type Owner struct {
	UserID   int64
	Username string
	AddedAt  time.Time
}

// OwnerQueries manage package ownership.
type OwnerQueries interface {
	// AddOwner makes a user an owner; already an owner is not an error.
	AddOwner(ctx context.Context, packageID, userID int64, at time.Time) error
	// RemoveOwner removes an owner; errs.NotFound if not an owner.
	RemoveOwner(ctx context.Context, packageID, userID int64) error
	ListOwners(ctx context.Context, packageID int64) ([]Owner, error)
	IsOwner(ctx context.Context, packageID, userID int64) (bool, error)
	// OwnersOf lists the owners of each of the packages with their
	// accounts' contact details, ordered by package id then username;
	// one lookup for many packages, so that a list of dependents does not
	// cost a query per package.
	OwnersOf(ctx context.Context, packageIDs []int64) ([]OwnerContact, error)
}

// OwnerContact is an owner of a package with the account's e-mail
// address and state, for notices to owners.
type OwnerContact struct {
	PackageID int64
	UserID    int64
	Username  string
	Email     string
	Disabled  bool
}

// DownloadCount is a number of downloads of one version on one UTC day
// (formatted 2006-01-02).
type DownloadCount struct {
	VersionID int64
	Day       string
	Count     int64
}

// DailyDownloads is the number of downloads of a package on one UTC day.
type DailyDownloads struct {
	Day   string
	Count int64
}

// DownloadQueries record and report downloads.
type DownloadQueries interface {
	// AddDownloads applies a batch of counts once: a batch ID already
	// applied is skipped without error, so a retried flush never doubles.
	AddDownloads(ctx context.Context, batchID string, counts []DownloadCount) error
	// VersionDownloads returns per-day counts of each version of a package
	// since the given day, keyed by version ID.
	VersionDownloads(ctx context.Context, packageID int64, sinceDay string) (map[int64][]DailyDownloads, error)
	// PackageDownloadsSince sums a package's downloads since the given day.
	PackageDownloadsSince(ctx context.Context, packageID int64, sinceDay string) (int64, error)
	// TrendingPackages lists the live packages with the most downloads
	// since the given day (YYYY-MM-DD), most first (ties by name); packages
	// not downloaded since then are left out.
	TrendingPackages(ctx context.Context, sinceDay string, limit int) ([]TrendingPackage, error)
}

// Outcomes of audit events.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditEvent records one security-relevant action.
type AuditEvent struct {
	ID      int64
	At      time.Time
	ActorID int64 // 0 when anonymous
	Actor   string
	IP      string
	Action  string
	Package string
	Target  string
	Outcome string
	Detail  string
}

// AuditFilter selects audit events; empty fields match everything.
type AuditFilter struct {
	Actor   string
	Package string
	Action  string
	// Actions restricts to these actions when not empty.
	Actions       []string
	Outcome       string
	Limit, Offset int
}

// AuditQueries record and list audit events.
type AuditQueries interface {
	AddAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns matching events, newest first, and their total.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, int, error)
}

// Kinds of git jobs.
const (
	GitCommit    = "commit"     // commit and tag a version
	GitSetMain   = "set_main"   // point main at the latest version
	GitDeleteTag = "delete_tag" // remove a deleted version's tag
	GitMirror    = "mirror"     // push the repository to its mirror
)

// GitJob is a durable unit of git work, retried until it succeeds.
type GitJob struct {
	ID            int64
	PackageID     int64
	Kind          string
	Version       string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
}

// GitJobQueries manage the git work queue.
type GitJobQueries interface {
	EnqueueGitJob(ctx context.Context, j *GitJob) error
	// ClaimGitJobs returns up to limit jobs due at now, oldest first, and
	// pushes their next attempt to now+lease so that another worker does
	// not take them while they run.
	ClaimGitJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]GitJob, error)
	CompleteGitJob(ctx context.Context, id int64) error
	// FailGitJob records a failed attempt and when to try again.
	FailGitJob(ctx context.Context, id int64, errText string, next time.Time) error
	// CountGitJobs counts the jobs waiting, and those that failed at least once.
	CountGitJobs(ctx context.Context) (pending, failing int64, err error)
}

// LogRecord is one record of the transparency log (internal/tlog), with
// what it is about for lookups.
type LogRecord struct {
	// Index numbers the records from 0, without gaps.
	Index int64
	Kind  string
	// Package is the normalised package name; Subject the version, or the
	// username of an owner record.
	Package string
	Subject string
	// Data is the record's canonical encoding, which the tree hashes.
	Data []byte
}

// LogQueries keep the transparency log: its records and the stored hashes
// of its Merkle tree. The store does no hashing: the registry computes what
// an append adds, inside the transaction of the change it records.
type LogQueries interface {
	// LockLog returns the number of records in the log and holds the log
	// until the transaction ends, so that appends of concurrent
	// transactions (of any instance) happen one after the other.
	LockLog(ctx context.Context) (int64, error)
	// LogSize returns the number of records in the log.
	LogSize(ctx context.Context) (int64, error)
	// AppendLog adds r, whose Index must be the size LockLog returned in
	// this transaction (else errs.Conflict), and the hashes it adds at
	// stored-hash indexes firstHash, firstHash+1, ….
	AppendLog(ctx context.Context, r *LogRecord, firstHash int64, hashes [][]byte) error
	// LogHashes reads stored hashes by index; a missing one is
	// errs.NotFound.
	LogHashes(ctx context.Context, indexes []int64) ([][]byte, error)
	// LogRecords returns the records with indexes in [from, to), in order.
	LogRecords(ctx context.Context, from, to int64) ([]LogRecord, error)
	// FindLogRecords returns the records about a package's subject, in log
	// order.
	FindLogRecords(ctx context.Context, pkg, subject string) ([]LogRecord, error)
}

// States of webhook deliveries.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt (or leased by a worker)
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // every attempt failed
)

// Webhook is an HTTP callback told about changes to packages: one
// package's (PackageID set) or every package's (PackageID 0, registry-wide).
// Secret is kept in clear because deliveries are signed with it.
type Webhook struct {
	ID        int64
	PackageID int64
	URL       string
	Secret    string
	// Events are the event names the hook wants; empty means all.
	Events    []string
	Active    bool
	CreatedBy string
	CreatedAt time.Time
}

// WebhookDelivery is one event to send to one hook: a durable queue entry
// and, once done, a line of the delivery log.
type WebhookDelivery struct {
	ID        int64
	WebhookID int64
	// GUID is the delivery id the receiver sees.
	GUID    string
	Event   string
	Package string
	Payload []byte
	State   string
	// Attempts counts the attempts made so far.
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// WebhookAttempt is one attempt at a delivery.
type WebhookAttempt struct {
	ID         int64
	DeliveryID int64
	At         time.Time
	// Status is the HTTP status of the answer, 0 when none came (Error
	// says why).
	Status        int
	Error         string
	Duration      time.Duration
	NextAttemptAt *time.Time
}

// DeliveryFilter selects deliveries for ListDeliveries.
type DeliveryFilter struct {
	// WebhookID, when set, keeps one hook's deliveries; else PackageID
	// keeps those of the package's hooks (0: of the registry-wide hooks).
	WebhookID int64
	PackageID int64
	Limit     int
}

// WebhookQueries manage webhooks and their durable delivery queue.
type WebhookQueries interface {
	CreateWebhook(ctx context.Context, h *Webhook) error
	GetWebhook(ctx context.Context, id int64) (*Webhook, error)
	// ListWebhooks lists a package's hooks (packageID 0: the registry-wide
	// ones), oldest first.
	ListWebhooks(ctx context.Context, packageID int64) ([]Webhook, error)
	// SetWebhookActive switches a hook on or off; errs.NotFound when there
	// is no such hook.
	SetWebhookActive(ctx context.Context, id int64, active bool) error
	// DeleteWebhook removes a hook with its deliveries and their attempts.
	DeleteWebhook(ctx context.Context, id int64) error
	// ActiveWebhooks lists the active hooks that hear about a package: its
	// own and the registry-wide ones (only those when packageID is 0).
	ActiveWebhooks(ctx context.Context, packageID int64) ([]Webhook, error)
	// EnqueueDelivery inserts d, pending and due at d.NextAttemptAt (its
	// CreatedAt when zero).
	EnqueueDelivery(ctx context.Context, d *WebhookDelivery) error
	// ClaimDeliveries returns up to limit pending deliveries due at now,
	// earliest first, and pushes their next attempt to now+lease so that
	// no other worker takes them while they are sent.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error)
	// RecordAttempt adds attempt a to its delivery and moves the delivery
	// to state (due again at a.NextAttemptAt when pending). attempts is the
	// count the claim returned: a delivery whose count moved on meanwhile
	// (its lease ran out and another worker recorded) is errs.Conflict, and
	// nothing is recorded.
	RecordAttempt(ctx context.Context, a *WebhookAttempt, attempts int, state string) error
	GetDelivery(ctx context.Context, id int64) (*WebhookDelivery, error)
	// ListDeliveries lists deliveries, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]WebhookDelivery, error)
	// ListAttempts lists a delivery's attempts in order.
	ListAttempts(ctx context.Context, deliveryID int64) ([]WebhookAttempt, error)
	// PruneDeliveries removes the delivered and failed deliveries last
	// changed before before, with their attempts, and counts them.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
	// Redeliver makes a failed delivery pending again, due at now;
	// errs.Conflict when it is not failed.
	Redeliver(ctx context.Context, id int64, now time.Time) error
}
