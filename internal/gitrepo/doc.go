// Package gitrepo keeps one bare git repository per package under the
// registry's git folder (DATA_DIR/git/{name}.git): every published version is
// a commit tagged v{version}, branch main follows the latest version, the
// repositories are served read-only over git's smart HTTP protocol, and they
// can be push-mirrored to any git remote (creating the remote repository on
// Gitea or Forgejo first).
//
// Everything is done by the git executable rather than a Go implementation
// of git:
//   - commits are built by one `git fast-import` process that reads the
//     archive as a stream (flat memory, one pack written per version), so the
//     trees and object ids are exactly the ones git itself computes;
//   - the repositories are served by `git http-backend` through net/http/cgi,
//     which speaks every protocol version stock clients use (v0 and v2),
//     shallow and partial clones, and the keep-alive and side-band details
//     of upload-pack; go-git's server side supports none of v2, shallow
//     fetches or filters;
//   - mirrors are pushed with `git push`, which already knows every
//     transport a mirror may use (https, ssh, local paths).
//
// Ids are deterministic: a version's commit and tag depend only on its files,
// its parent, the publisher's name and email, the publish time (UTC, whole
// seconds) and fixed messages, and every git process runs with an explicit
// environment (no system or global configuration, no hooks, LC_ALL=C), so a
// rebuild from the stored archives reproduces the same ids on any machine.
//
// Writes to one repository are serialised by an flock(2) on a lock file
// inside it, which also holds between registry instances sharing the folder.
// Objects are written before any ref, and refs change only through
// `git update-ref` with old-value checks, so a process killed at any instant
// leaves a repository that is valid (at worst with unreferenced objects).
// Repositories are created in a temporary folder and renamed into place, so a
// half-initialised repository is never visible.
//
// A package's history is a function of its live versions: deleting a version
// makes the repository again, in a staging folder, from the other versions'
// archives, and swaps it in (Stage, Replace), so the deleted version's
// objects are gone rather than merely unreferenced, and its descendants get
// the same new ids on every instance.
package gitrepo
