package cache_test

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/testenv"
)

// redisServer is a redis-server of the test's own, which the test may kill,
// restart on the same port, freeze and thaw.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// startRedis starts a redis-server on a free port of 127.0.0.1, stopped when
// the test ends.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	s := &redisServer{t: t, bin: testenv.LookPath(t, "redis-server"), dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs the server (again) on its port and waits until it answers.
func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), DisableIdentity: true, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	var err error
	for range 500 {
		if err = c.Ping(context.Background()).Err(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("redis-server on %s does not answer: %v", s.addr(), err)
}

// kill ends the server abruptly, losing its data, as a crash would.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// freeze stops the server without closing its connections, so that calls
// time out, as with a hung server or a network partition; thaw resumes it.
func (s *redisServer) freeze() { s.signal(syscall.SIGSTOP) }
func (s *redisServer) thaw()   { s.signal(syscall.SIGCONT) }

func (s *redisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v to redis-server: %v", sig, err)
	}
}

// client returns a client with short timeouts and no retries, so that an
// outage shows at once; closed when the test ends.
func (s *redisServer) client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{
		Addr:            s.addr(),
		DisableIdentity: true,
		MaxRetries:      -1,
		DialerRetries:   1,
		DialTimeout:     200 * time.Millisecond,
		ReadTimeout:     200 * time.Millisecond,
		WriteTimeout:    200 * time.Millisecond,
	})
	s.t.Cleanup(func() { c.Close() })
	return c
}
