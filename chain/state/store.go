// Package state is the XairrosX chain's authenticated key-value state: one
// IAVL tree (github.com/cosmos/iavl v1.2.0) persisted in goleveldb under the
// node's data directory. The tree's root hash is the app hash of every block;
// values come with ICS-23 Merkle proofs; whole versions export to and import
// from a byte stream for ABCI state-sync snapshots.
//
// Every committed version is flushed to goleveldb before Commit returns, so a
// process killed with SIGKILL reopens at its last committed version and
// CometBFT's handshake replays the blocks after it.
package state

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"cosmossdk.io/log"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	ics23 "github.com/cosmos/ics23/go"
)

// KeepVersions is how many recent versions stay queryable; older ones are
// pruned at commit.
const KeepVersions = 1000

// Store is the chain state. It is not safe for concurrent use: the ABCI
// application serialises access.
type Store struct {
	db   dbm.DB
	tree *iavl.MutableTree
}

// Open opens (or creates) the state database "app" in dir and loads the
// latest committed version.
func Open(dir string) (*Store, error) {
	db, err := dbm.NewGoLevelDB("app", dir, nil)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", dir, err)
	}
	return newStore(db)
}

// OpenMem returns an empty in-memory store (tests, replay checks).
func OpenMem() *Store {
	s, err := newStore(dbm.NewMemDB())
	if err != nil {
		panic(err) // an empty memdb cannot fail to load
	}
	return s
}

func newStore(db dbm.DB) (*Store, error) {
	tree := iavl.NewMutableTree(idb.NewWrapper(db), 10000, true, log.NewNopLogger())
	if _, err := tree.Load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("state: load tree: %w", err)
	}
	return &Store{db: db, tree: tree}, nil
}

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// Get reads key from the working (uncommitted) state; nil when absent.
func (s *Store) Get(key []byte) ([]byte, error) { return s.tree.Get(key) }

// Set writes key in the working state. IAVL forbids nil values, so an empty
// value is stored as empty.
func (s *Store) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.tree.Set(key, value)
	return err
}

// Delete removes key from the working state.
func (s *Store) Delete(key []byte) error {
	_, _, err := s.tree.Remove(key)
	return err
}

// WorkingHash is the root hash the working state will have once committed.
func (s *Store) WorkingHash() []byte { return s.tree.WorkingHash() }

// Hash is the root hash of the last committed version.
func (s *Store) Hash() []byte { return s.tree.Hash() }

// Version is the last committed version (the block height), 0 when empty.
func (s *Store) Version() int64 { return s.tree.Version() }

// Commit saves the working state as the next version and prunes old ones.
func (s *Store) Commit() ([]byte, int64, error) {
	hash, v, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("state: save version: %w", err)
	}
	if v > KeepVersions {
		if err := s.tree.DeleteVersionsTo(v - KeepVersions); err != nil {
			return nil, 0, fmt.Errorf("state: prune to %d: %w", v-KeepVersions, err)
		}
	}
	return hash, v, nil
}

// SetInitialVersion makes the first Commit produce the given version.
func (s *Store) SetInitialVersion(v int64) {
	if v > 1 {
		s.tree.SetInitialVersion(uint64(v))
	}
}

// Rollback discards uncommitted writes.
func (s *Store) Rollback() { s.tree.Rollback() }

// Prove returns the value of key at a committed version (0 = latest) with an
// ICS-23 proof of membership, or of non-membership when the value is nil,
// and the root hash of that version. The proof is protobuf-encoded.
func (s *Store) Prove(key []byte, version int64) (value, proof, root []byte, height int64, err error) {
	if version == 0 {
		version = s.tree.Version()
	}
	it, err := s.tree.GetImmutable(version)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("state: version %d: %w", version, err)
	}
	value, err = it.Get(key)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	var p *ics23.CommitmentProof
	if value != nil {
		p, err = it.GetMembershipProof(key)
	} else {
		p, err = it.GetNonMembershipProof(key)
	}
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("state: proof of %x at %d: %w", key, version, err)
	}
	proof, err = p.Marshal()
	if err != nil {
		return nil, nil, nil, 0, err
	}
	return value, proof, it.Hash(), version, nil
}

// VerifyProof checks an encoded ICS-23 proof from Prove against root: that key
// has value (membership) or, when value is nil, that key is absent.
func VerifyProof(root, key, value, proof []byte) error {
	var p ics23.CommitmentProof
	if err := p.Unmarshal(proof); err != nil {
		return fmt.Errorf("proof: decode: %w", err)
	}
	if value != nil {
		if !ics23.VerifyMembership(ics23.IavlSpec, root, &p, key, value) {
			return errors.New("proof: membership proof does not verify against the root")
		}
		return nil
	}
	if !ics23.VerifyNonMembership(ics23.IavlSpec, root, &p, key) {
		return errors.New("proof: non-membership proof does not verify against the root")
	}
	return nil
}

// Iterate calls fn for every key with the given prefix in the committed
// latest version, in key order, until fn returns false.
func (s *Store) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	it, err := s.tree.GetImmutable(s.tree.Version())
	if err != nil {
		return err
	}
	iter, err := it.Iterator(prefix, prefixEnd(prefix), true)
	if err != nil {
		return err
	}
	defer iter.Close()
	for ; iter.Valid(); iter.Next() {
		if !fn(iter.Key(), iter.Value()) {
			break
		}
	}
	return iter.Error()
}

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Export writes committed version v as a node stream that Import rebuilds into
// an identical tree (same root hash). Each node: flags byte (1 = leaf),
// height byte, uvarint version, uvarint-length key, and for leaves an
// uvarint-length value.
func (s *Store) Export(v int64, w io.Writer) error {
	it, err := s.tree.GetImmutable(v)
	if err != nil {
		return fmt.Errorf("state: export version %d: %w", v, err)
	}
	exp, err := it.Export()
	if err != nil {
		return err
	}
	defer exp.Close()
	bw := bufio.NewWriter(w)
	var buf []byte
	for {
		n, err := exp.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			break
		}
		if err != nil {
			return err
		}
		buf = buf[:0]
		leaf := byte(0)
		if n.Height == 0 {
			leaf = 1
		}
		buf = append(buf, leaf, byte(n.Height))
		buf = binary.AppendUvarint(buf, uint64(n.Version))
		buf = binary.AppendUvarint(buf, uint64(len(n.Key)))
		buf = append(buf, n.Key...)
		if leaf == 1 {
			buf = binary.AppendUvarint(buf, uint64(len(n.Value)))
			buf = append(buf, n.Value...)
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Import rebuilds version v from an Export stream into this store, which must
// be empty, and loads it. The stream comes from peers: malformed input is an
// error, never a panic.
func (s *Store) Import(v int64, r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("state: import: malformed snapshot: %v", p)
		}
	}()
	imp, err := s.tree.Import(v)
	if err != nil {
		return fmt.Errorf("state: import: %w", err)
	}
	defer imp.Close()
	br := bufio.NewReader(r)
	readBytes := func(what string) ([]byte, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("state: import %s length: %w", what, err)
		}
		if n > 1<<26 {
			return nil, fmt.Errorf("state: import %s length %d too large", what, n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("state: import %s: %w", what, err)
		}
		return b, nil
	}
	for {
		leaf, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		h, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("state: import height: %w", err)
		}
		ver, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("state: import version: %w", err)
		}
		n := &iavl.ExportNode{Height: int8(h), Version: int64(ver)}
		if n.Key, err = readBytes("key"); err != nil {
			return err
		}
		if leaf == 1 {
			if n.Value, err = readBytes("value"); err != nil {
				return err
			}
		}
		if err := imp.Add(n); err != nil {
			return fmt.Errorf("state: import node: %w", err)
		}
	}
	return imp.Commit()
}
