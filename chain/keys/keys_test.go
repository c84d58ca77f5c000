package keys

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/xairrosx/xairrosx/chain/tx"
)

func TestSaveLoadList(t *testing.T) {
	home := t.TempDir()
	seed := bytes.Repeat([]byte{7}, 32)
	k, err := New("alice", seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(home, k); err != nil {
		t.Fatal(err)
	}
	if err := Save(home, k); err == nil {
		t.Fatal("a key was overwritten")
	}
	got, err := Load(home, "alice")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := got.Private()
	if got.Addr() != tx.AddressOf(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)) || !bytes.Equal(priv.Seed(), seed) {
		t.Fatal("loaded key differs")
	}
	if st, _ := os.Stat(filepath.Join(Dir(home), "alice.json")); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	Save(home, Must(New("bob", nil)))
	if names, _ := List(home); len(names) != 2 || names[0] != "alice" || names[1] != "bob" {
		t.Fatalf("list %v", names)
	}
	for _, bad := range []string{"", "../x", "a/b", string(make([]byte, 65))} {
		if _, err := New(bad, nil); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	os.WriteFile(filepath.Join(Dir(home), "broken.json"), []byte(`{"name":"broken","seed":"zz"}`), 0o600)
	if _, err := Load(home, "broken"); err == nil {
		t.Fatal("corrupt key loaded")
	}
}
