package e2e

import (
	"bytes"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestImpactEmail yanks a version through the API of a registry whose
// NOTIFY_EMAIL_COMMAND is a real script, and reads the message the owners
// of the dependent package were sent.
func TestImpactEmail(t *testing.T) {
	dir := t.TempDir()
	mbox := filepath.Join(dir, "mbox")
	script := filepath.Join(dir, "sendmail")
	// The script records its arguments and the message, as sendmail -t
	// would receive them.
	body := "#!/bin/sh\necho \"ARGS: $*\" >> " + mbox + "\ncat >> " + mbox + "\necho '--END--' >> " + mbox + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	r := startRegistry(t, regOptions{Env: map[string]string{
		"NOTIFY_EMAIL_COMMAND": script + " -t -i",
		"NOTIFY_EMAIL_FROM":    "Dryad Registry <registry@example.org>",
		"PUBLIC_URL":           "https://registry.example.org",
	}})
	alice, bob := r.signUp("imp_alice"), r.signUp("imp_bob")
	r.signUp("imp_carol")
	for _, p := range []pkg{{name: "imp-base", version: "1.0.0"}, {name: "imp-base", version: "1.1.0"}} {
		r.expect(201, "POST", "/api/upload", alice, p.archive(t), "Content-Type", "application/gzip")
	}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		p := pkg{name: "imp-app", version: v, fields: map[string]any{"dependencies": map[string]string{"imp-base": "^1.0.0"}}}
		r.expect(201, "POST", "/api/upload", bob, p.archive(t), "Content-Type", "application/gzip")
	}
	r.expect(200, "PUT", "/api/packages/imp-app/owners", bob, map[string]any{"users": []string{"imp_carol"}})
	// Pinned to the version that stays: unaffected, not written to.
	r.expect(201, "POST", "/api/upload", alice, pkg{name: "imp-pinned", version: "1.0.0",
		fields: map[string]any{"dependencies": map[string]string{"imp-base": "1.0.0"}}}.archive(t), "Content-Type", "application/gzip")

	// The preview, public.
	imp := r.expect(200, "GET", "/api/packages/IMP_BASE/versions/1.1.0/impact?action=yank", "", nil).JSON(t)
	if imp["name"] != "imp-base" || imp["version"] != "1.1.0" || imp["affected_versions"] != 2.0 || imp["affected_packages"] != 1.0 || imp["truncated"] != false {
		t.Errorf("impact: %v", imp)
	}
	entries, _ := imp["entries"].([]any)
	if len(entries) != 2 {
		t.Fatalf("impact entries: %v", imp["entries"])
	}
	first := entries[0].(map[string]any)
	if first["package"] != "imp-app" || first["version"] != "1.1.0" || first["range"] != "^1.0.0" || first["from"] != "1.1.0" || first["to"] != "1.0.0" ||
		strings.Join(anyStrings(first["owners"]), ",") != "imp_bob,imp_carol" {
		t.Errorf("first entry: %v", first)
	}
	whole := r.expect(200, "GET", "/api/packages/imp-base/impact?limit=1", "", nil).JSON(t)
	if whole["version"] != nil || whole["affected_versions"] != 3.0 || whole["truncated"] != true || len(whole["entries"].([]any)) != 1 ||
		whole["entries"].([]any)[0].(map[string]any)["to"] != nil {
		t.Errorf("whole-package impact: %v", whole)
	}
	for _, bad := range []string{
		"/api/packages/imp-base/versions/1.1.0/impact",
		"/api/packages/imp-base/versions/1.1.0/impact?action=remove",
		"/api/packages/imp-base/versions/1.1.0/impact?action=yank&limit=0",
		"/api/packages/imp-base/impact?action=yank",
	} {
		res := r.expect(400, "GET", bad, "", nil)
		if msg, _ := res.JSON(t)["message"].(string); msg == "" {
			t.Errorf("%s: no message", bad)
		}
	}
	r.expect(404, "GET", "/api/packages/imp-base/versions/9.0.0/impact?action=yank", "", nil)

	r.expect(200, "PUT", "/api/packages/imp-base/versions/1.1.0/yank", alice, nil)
	var msgs []string
	testenv.Eventually(t, "the e-mail to the owners of imp-app", func() (bool, string) {
		// Only messages the script finished writing: the last one may
		// still be arriving.
		b, _ := os.ReadFile(mbox)
		msgs = strings.Split(string(b), "--END--\n")
		msgs = msgs[:len(msgs)-1]
		return len(msgs) >= 1, string(b) + "\n" + r.Logs()
	})
	args, raw, _ := strings.Cut(msgs[0], "\n")
	if args != "ARGS: -t -i" {
		t.Errorf("the command ran with %q", args)
	}
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "imp_bob@example.org" || to[1].Address != "imp_carol@example.org" {
		t.Errorf("To: %q (%v)", m.Header.Get("To"), err)
	}
	if from := m.Header.Get("From"); !strings.Contains(from, "registry@example.org") {
		t.Errorf("From: %q", from)
	}
	if subj := m.Header.Get("Subject"); !strings.Contains(subj, "imp-base@1.1.0 was yanked") || !strings.Contains(subj, "2 versions of imp-app resolve differently") {
		t.Errorf("Subject: %q", subj)
	}
	var text bytes.Buffer
	text.ReadFrom(m.Body)
	for _, want := range []string{
		"imp_alice yanked imp-base@1.1.0",
		"imp-app@1.1.0 needs imp-base ^1.0.0: was 1.1.0, now 1.0.0",
		"imp-app@1.0.0 needs imp-base ^1.0.0: was 1.1.0, now 1.0.0",
		"https://registry.example.org/packages/imp-app",
		"https://registry.example.org/packages/imp-base",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the body lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "imp-pinned") || strings.Contains(raw, "imp_alice@example.org") {
		t.Errorf("the message names the unaffected package or its owner:\n%s", raw)
	}

	// Unyanking tells no one; the next yank of a version no range picks
	// neither.
	r.expect(200, "DELETE", "/api/packages/imp-base/versions/1.1.0/yank", alice, nil)
	r.expect(201, "POST", "/api/upload", alice, pkg{name: "imp-base", version: "0.9.0"}.archive(t), "Content-Type", "application/gzip")
	r.expect(200, "PUT", "/api/packages/imp-base/versions/0.9.0/yank", alice, nil)
	r.Stop() // waits for anything still queued
	b, _ := os.ReadFile(mbox)
	if n := strings.Count(string(b), "--END--"); n != 1 {
		t.Errorf("%d messages sent, want 1:\n%s", n, b)
	}
	if !strings.Contains(r.Logs(), "e-mail notice sent") {
		t.Errorf("the registry did not log the notice:\n%s", r.Logs())
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestNotifyEmailSettings checks that bad notice settings stop the
// registry at start, saying what to fix.
func TestNotifyEmailSettings(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"NOTIFY_EMAIL_FROM=not an address"}, `NOTIFY_EMAIL_FROM="not an address": want an e-mail address`},
		{[]string{"NOTIFY_EMAIL_COMMAND=/nonexistent/sendmail -t"}, `NOTIFY_EMAIL_COMMAND="/nonexistent/sendmail -t"`},
	} {
		dir := t.TempDir()
		code, out := runBinary(t, dir, append(tt.env, "DATA_DIR="+dir+"/data", "PORT=0"))
		if code != 2 || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tt.env, code, tt.want, out)
		}
	}
}
