package redis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Connect returns a client of the Redis server at url (redis://…), tuned
// for a cache that must fail fast: short timeouts and one retry, since the
// resilient wrappers above the drivers decide when to try Redis again;
// retries inside the client (by default 4 commands × 5 dials) would only
// hold the request that tries for longer. One retry still covers a pooled
// connection Redis closed on restart. The client's own log lines go to log.
func Connect(url string, log *slog.Logger) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.MaxRetries = 1
	opts.DialerRetries = 1
	goredis.SetLogger(clientLogger{log})
	return goredis.NewClient(opts), nil
}

// clientLogger routes the Redis client's printf-style log lines into the
// registry's structured log instead of bare stderr lines.
type clientLogger struct{ log *slog.Logger }

func (l clientLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
