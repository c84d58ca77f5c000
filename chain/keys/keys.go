// Package keys is the XairrosX account keyring: Ed25519 keys stored as JSON
// files under <home>/keys/<name>.json (mode 0600, unencrypted seed: the
// directory's permissions are the protection).
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/xairrosx/xairrosx/chain/tx"
)

// Key is one named account key.
type Key struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	PubKey  string `json:"pubkey"`
	Seed    string `json:"seed"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Dir returns the keyring directory of a home.
func Dir(home string) string { return filepath.Join(home, "keys") }

// New derives a key from a 32-byte seed (random when nil).
func New(name string, seed []byte) (*Key, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("keys: invalid name %q (letters, digits, _ . -; up to 64)", name)
	}
	if seed == nil {
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys: seed of %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &Key{Name: name, Address: tx.AddressOf(pub).String(), PubKey: hex.EncodeToString(pub), Seed: hex.EncodeToString(seed)}, nil
}

// Must returns k or panics on err; for tests and literals.
func Must(k *Key, err error) *Key {
	if err != nil {
		panic(err)
	}
	return k
}

// Private returns the Ed25519 private key.
func (k *Key) Private() (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(k.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys: %s: corrupt seed", k.Name)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Addr returns the key's account address.
func (k *Key) Addr() tx.Address {
	a, _ := tx.ParseAddress(k.Address)
	return a
}

// Save writes the key into home's keyring; it refuses to overwrite.
func Save(home string, k *Key) error {
	if err := os.MkdirAll(Dir(home), 0o700); err != nil {
		return err
	}
	path := filepath.Join(Dir(home), k.Name+".json")
	b, _ := json.MarshalIndent(k, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("keys: %s already exists in %s", k.Name, Dir(home))
		}
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load reads a named key from home's keyring.
func Load(home, name string) (*Key, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("keys: invalid name %q", name)
	}
	b, err := os.ReadFile(filepath.Join(Dir(home), name+".json"))
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", name, err)
	}
	var k Key
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("keys: %s: %w", name, err)
	}
	if _, err := k.Private(); err != nil {
		return nil, err
	}
	return &k, nil
}

// List returns the names of all keys in home's keyring.
func List(home string) ([]string, error) {
	ents, err := os.ReadDir(Dir(home))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}
