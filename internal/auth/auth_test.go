package auth

import (
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	p := Params{Memory: 64, Time: 1, Threads: 1}
	h, err := HashPassword("正しいパスワード123", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not an encoded argon2id hash", h)
	}
	h2, _ := HashPassword("正しいパスワード123", p)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for pw, want := range map[string]bool{"正しいパスワード123": true, "正しいパスワード124": false, "": false} {
		ok, err := CheckPassword(pw, h)
		if err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
}

func TestDefaultParamsAreOWASPs(t *testing.T) {
	h, err := HashPassword("x", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("default hash %q", h)
	}
}

func TestCheckPasswordRejectsMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=x,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$"} {
		if ok, err := CheckPassword("x", h); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want false and an error", h, ok, err)
		}
	}
}

func TestSessionSecrets(t *testing.T) {
	s1, h1 := NewSessionSecret()
	s2, _ := NewSessionSecret()
	if s1 == s2 || len(s1) < 40 {
		t.Errorf("secrets %q %q: want long and distinct", s1, s2)
	}
	if h1 == s1 || SessionHash(s1) != h1 {
		t.Error("the stored hash must be derived from, and differ from, the secret")
	}
}
