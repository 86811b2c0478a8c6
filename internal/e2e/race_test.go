//go:build race

package e2e

// raceEnabled builds the registry binary with the race detector too, so a
// data race in the server fails the test that started it (the binary then
// exits with status 66).
const raceEnabled = true
