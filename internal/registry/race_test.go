package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

// A publish that depends on a package and the deletion of that package's
// only matching version, at the same moment: never both succeed, or a live
// version would depend on nothing installable. PostgreSQL runs its
// transactions at READ COMMITTED, where neither would see the other without
// the lock the publish takes on its dependencies. Whether two transactions
// overlap is up to the scheduler, so this test may miss a broken lock in a
// given run; storetest's SharedLock pins the lock itself down.
func TestPublishRacesDeleteOfDependency(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			var opts []registrytest.Option
			if engine == "postgres" {
				opts = append(opts, registrytest.Postgres(t))
			}
			f := registrytest.New(t, opts...)
			alice := f.SignUp("alice")
			bob := f.SignUp("bob")
			for round := range 24 {
				dep, user := fmt.Sprintf("dep%d", round), fmt.Sprintf("user%d", round)
				f.Publish(alice, pkg(dep, "1.0.0"))
				archive := withDeps(user, "1.0.0", map[string]string{dep: "^1.0.0"})
				var pubErr, delErr error
				var wg sync.WaitGroup
				start := make(chan struct{})
				wg.Add(2)
				go func() {
					defer wg.Done()
					<-start
					_, pubErr = f.TryPublish(bob, archive)
				}()
				go func() {
					defer wg.Done()
					<-start
					// The delete starts at a different point of the
					// publish each round, so that some rounds overlap
					// their transactions.
					time.Sleep(time.Duration(round%8) * 500 * time.Microsecond)
					_, delErr = f.Service.DeleteVersion(ctx, alice, dep, "1.0.0", ip)
				}()
				close(start)
				wg.Wait()
				switch {
				case pubErr == nil && delErr == nil:
					t.Fatalf("round %d: %s@1.0.0 was published depending on %s@1.0.0, which was deleted at the same time", round, user, dep)
				case pubErr != nil && errs.KindOf(pubErr) != errs.Unprocessable:
					t.Fatalf("round %d: publish: %v", round, pubErr)
				case delErr != nil && errs.KindOf(delErr) != errs.Conflict:
					t.Fatalf("round %d: delete: %v", round, delErr)
				}
			}
		})
	}
}
