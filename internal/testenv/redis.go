package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisOptions configure a test's own redis-server.
type RedisOptions struct {
	// Password, when true, protects the server with a random password.
	Password bool
	// Persist keeps the data across Stop and Start in an append-only file,
	// as a Redis with a volume does; otherwise a restart starts empty.
	Persist bool
}

// RedisServer is a redis-server of the test's own on 127.0.0.1, which the
// test may stop, kill, restart on the same port, freeze and thaw: the
// shared server of TEST_REDIS_URL must never be disturbed that way.
type RedisServer struct {
	bin, dir string
	port     int
	password string
	persist  bool
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	log      Buffer
}

// StartRedis starts a redis-server on a free loopback port and stops it
// when the test ends. It fails the test under CI when redis-server is
// missing, and skips it elsewhere.
func StartRedis(t testing.TB, o RedisOptions) *RedisServer {
	t.Helper()
	s := &RedisServer{bin: LookPath(t, "redis-server"), dir: t.TempDir(), persist: o.Persist}
	if o.Password {
		var b [12]byte
		rand.Read(b[:])
		s.password = hex.EncodeToString(b[:])
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Start(t)
	t.Cleanup(s.Kill)
	return s
}

// Addr is host:port of the server.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's redis:// URL, password included.
func (s *RedisServer) URL() string {
	if s.password == "" {
		return "redis://" + s.Addr() + "/0"
	}
	return fmt.Sprintf("redis://:%s@%s/0", s.password, s.Addr())
}

// Start runs the server (again, after Stop or Kill) on its port and waits
// until it answers.
func (s *RedisServer) Start(t testing.TB) {
	t.Helper()
	args := []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir, "--save", ""}
	if s.persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	opts, _ := goredis.ParseURL(s.URL())
	opts.MaxRetries = -1
	opts.DisableIdentity = true
	c := goredis.NewClient(opts)
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("redis-server exited: %s", s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s does not answer: %v\n%s", s.Addr(), err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down in order (SIGTERM) and waits for it.
func (s *RedisServer) Stop() { s.end(syscall.SIGTERM) }

// Kill ends the server abruptly, as a crash would.
func (s *RedisServer) Kill() { s.end(syscall.SIGKILL) }

func (s *RedisServer) end(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGCONT) // a frozen server cannot stop
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Freeze stops the server without closing its connections, as a hung
// server or a lost network does: calls wait for their timeouts. Thaw
// resumes it.
func (s *RedisServer) Freeze(t testing.TB) { s.signal(t, syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *RedisServer) Thaw(t testing.TB) { s.signal(t, syscall.SIGCONT) }

func (s *RedisServer) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		t.Fatalf("signal %v: redis-server is not running", sig)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to redis-server: %v", sig, err)
	}
}

// Client returns a client with short timeouts and no retries, so that an
// outage shows at once; it is closed when the test ends.
func (s *RedisServer) Client(t testing.TB) *goredis.Client {
	opts, _ := goredis.ParseURL(s.URL())
	opts.DisableIdentity = true
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.DialTimeout = 200 * time.Millisecond
	opts.ReadTimeout = 200 * time.Millisecond
	opts.WriteTimeout = 200 * time.Millisecond
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// RedisClient returns a client of the shared test Redis (TEST_REDIS_URL),
// closed when the test ends.
func RedisClient(t testing.TB) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	opts.DisableIdentity = true
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// RedisPrefix returns a key prefix of the test's own on the shared test
// Redis; its keys are removed when the test ends.
func RedisPrefix(t testing.TB) string {
	t.Helper()
	prefix := UniqueName("test:") + ":"
	t.Cleanup(func() {
		c := RedisClient(t)
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}
