// Package secretbox encrypts secrets at rest (Zoom's OAuth tokens) with
// AES-256-GCM, and finds the key: KAISAI_SECRET_KEY, or a key generated once
// into the data directory.
package secretbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// KeyFile is the name of the generated key in the data directory.
const KeyFile = "secret.key"

// ErrNoKey means no key is configured where one cannot be generated: several
// instances on one PostgreSQL must share a key, so each cannot make its own.
var ErrNoKey = errors.New("secretbox: KAISAI_SECRET_KEY is not set: with KAISAI_DATABASE_URL every instance must share one key " +
	"(32 bytes, base64 or hex, e.g. `openssl rand -base64 32`); Zoom features are off until it is set")

// Box seals and opens secrets with one key.
type Box struct{ aead cipher.AEAD }

// New makes a Box from a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: the key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext with a random nonce: nonce || ciphertext || tag.
// additional binds the sealed value to its place (e.g. "zoom_connections/7/access"),
// so a value copied to another row does not open there.
func (b *Box) Seal(plaintext, additional []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("secretbox: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return b.aead.Seal(nonce, nonce, plaintext, additional)
}

// Open decrypts what Seal made with the same additional data.
func (b *Box) Open(sealed, additional []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, errors.New("secretbox: sealed value too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], additional)
	if err != nil {
		return nil, errors.New("secretbox: cannot open (wrong key or altered value)")
	}
	return out, nil
}

// ParseKey reads a 32-byte key written in hex or base64 (standard or URL,
// padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("secretbox: the key must be %d bytes in hex or base64", KeySize)
}

// LoadKey finds the key. envKey (KAISAI_SECRET_KEY) wins. Without it, a
// shared database (shared true: PostgreSQL) is ErrNoKey; otherwise the key
// is read from dataDir/secret.key, generated there on first use with mode
// 0600. A key file readable by others is refused.
func LoadKey(envKey, dataDir string, shared bool) ([]byte, error) {
	if envKey != "" {
		return ParseKey(envKey)
	}
	if shared {
		return nil, ErrNoKey
	}
	if dataDir == "" {
		return nil, errors.New("secretbox: no data directory for the key")
	}
	path := filepath.Join(dataDir, KeyFile)
	for range 2 {
		k, err := readKeyFile(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return k, err
		}
		k, err = createKeyFile(path)
		if !errors.Is(err, fs.ErrExist) {
			return k, err
		}
		// Another process made it first: read theirs.
	}
	return nil, fmt.Errorf("secretbox: cannot create or read %s", path)
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secretbox: %s has mode %v: it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secretbox: %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a new key with O_EXCL, so two processes starting at
// once cannot each write their own. It is written to a temporary file first
// and linked into place, so nobody reads a half-written key.
func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret.key-*")
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	_, err = tmp.Write([]byte(base64.StdEncoding.EncodeToString(key) + "\n"))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	// link fails with EEXIST when the key is there already: O_EXCL semantics.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fs.ErrExist
		}
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return bytes.Clone(key), nil
}
