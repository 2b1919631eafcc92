package secretbox

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func testKey() []byte { return bytes.Repeat([]byte{7}, KeySize) }

func TestSealOpen(t *testing.T) {
	b, err := New(testKey())
	if err != nil {
		t.Fatal(err)
	}
	s1 := b.Seal([]byte("access-token"), []byte("row/1"))
	s2 := b.Seal([]byte("access-token"), []byte("row/1"))
	if bytes.Equal(s1, s2) {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if bytes.Contains(s1, []byte("access-token")) {
		t.Fatal("the plaintext shows in the sealed value")
	}
	got, err := b.Open(s1, []byte("row/1"))
	if err != nil || string(got) != "access-token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(s1, []byte("row/2")); err == nil {
		t.Error("opened with other additional data")
	}
	bad := bytes.Clone(s1)
	bad[len(bad)-1] ^= 1
	if _, err := b.Open(bad, []byte("row/1")); err == nil {
		t.Error("opened an altered value")
	}
	if _, err := b.Open(s1[:5], nil); err == nil {
		t.Error("opened a short value")
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(s1, []byte("row/1")); err == nil {
		t.Error("opened with another key")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("New accepted a short key")
	}
}

func TestParseKey(t *testing.T) {
	k := testKey()
	for _, s := range []string{hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "nothex", base64.StdEncoding.EncodeToString(k[:16])} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func TestLoadKey(t *testing.T) {
	t.Run("env wins", func(t *testing.T) {
		k, err := LoadKey(hex.EncodeToString(testKey()), "", true)
		if err != nil || !bytes.Equal(k, testKey()) {
			t.Fatalf("LoadKey = %x, %v", k, err)
		}
	})
	t.Run("shared database without a key", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadKey("", dir, true); !errors.Is(err, ErrNoKey) {
			t.Fatalf("err = %v, want ErrNoKey", err)
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
			t.Error("a key file was generated for a shared database")
		}
	})
	t.Run("generated once, mode 0600", func(t *testing.T) {
		dir := t.TempDir()
		var wg sync.WaitGroup
		keys := make([][]byte, 8)
		for i := range keys {
			wg.Go(func() {
				k, err := LoadKey("", dir, false)
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for _, k := range keys[1:] {
			if !bytes.Equal(k, keys[0]) || len(k) != KeySize {
				t.Fatalf("concurrent first starts got different keys: %x vs %x", k, keys[0])
			}
		}
		fi, err := os.Stat(filepath.Join(dir, KeyFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, %v", fi, err)
		}
		again, err := LoadKey("", dir, false)
		if err != nil || !bytes.Equal(again, keys[0]) {
			t.Fatalf("second start: %x, %v", again, err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("temporary files left: %v", entries)
		}
	})
	t.Run("wider mode refused", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadKey("", dir, false); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKey("", dir, false); err == nil {
			t.Fatal("a key file readable by others was accepted")
		}
	})
}
