// Package auth holds the registry's credential primitives: password hashing
// and policy, account name rules, session JWTs, API tokens with their scopes
// and package patterns, web session cookies and CSRF tokens, and the
// Principal that describes an authenticated caller.
//
// It is pure logic: no database and no HTTP handlers. The registry service
// combines it with the metadata store, which keeps only hashes of secrets.
package auth
