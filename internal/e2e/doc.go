// Package e2e holds the black-box tests of the dryad-registry binary: each
// test builds nothing of its own but starts the real program (built once
// per run, with the race detector when the tests have it) against real
// engines, and talks to it only as its users do: over HTTP, on the command
// line and through its files. Its only non-test file is this one.
package e2e
