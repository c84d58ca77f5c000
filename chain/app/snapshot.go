package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/xairrosx/xairrosx/chain/state"
)

// Snapshot format 1: the state.Store Export stream of one version, cut into
// SnapshotChunkSize chunks. Snapshot.Hash is the SHA-256 of the whole stream
// and Snapshot.Metadata the concatenated SHA-256 of every chunk, so a
// restoring node checks each chunk as it arrives and the final app hash
// against the light-client-verified one.
const (
	SnapshotFormat    = 1
	SnapshotChunkSize = 256 << 10
)

type snapshot struct {
	height int64
	data   []byte
}

func (s *snapshot) chunks() uint32 {
	return uint32((len(s.data) + SnapshotChunkSize - 1) / SnapshotChunkSize)
}

func (s *snapshot) chunk(i uint32) []byte {
	lo := int(i) * SnapshotChunkSize
	hi := min(lo+SnapshotChunkSize, len(s.data))
	return s.data[lo:hi]
}

func (s *snapshot) abci() *abci.Snapshot {
	n := s.chunks()
	meta := make([]byte, 0, 32*n)
	for i := uint32(0); i < n; i++ {
		h := sha256.Sum256(s.chunk(i))
		meta = append(meta, h[:]...)
	}
	sum := sha256.Sum256(s.data)
	return &abci.Snapshot{Height: uint64(s.height), Format: SnapshotFormat, Chunks: n, Hash: sum[:], Metadata: meta}
}

// snapshots stores snapshot files <height>.snap in one directory.
type snapshots struct {
	dir  string
	mu   sync.Mutex
	list []*snapshot // ascending height
}

func openSnapshots(dir string) (*snapshots, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	s := &snapshots{dir: dir}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".snap")
		if !ok {
			continue
		}
		h, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("snapshots: %w", err)
		}
		s.list = append(s.list, &snapshot{height: h, data: data})
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].height < s.list[j].height })
	return s, nil
}

// take exports version v, writes it atomically and prunes old snapshots.
func (s *snapshots) take(st *state.Store, v int64, keep int) error {
	var buf bytes.Buffer
	if err := st.Export(v, &buf); err != nil {
		return err
	}
	path := filepath.Join(s.dir, fmt.Sprintf("%d.snap", v))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, &snapshot{height: v, data: buf.Bytes()})
	for len(s.list) > keep {
		old := s.list[0]
		s.list = s.list[1:]
		os.Remove(filepath.Join(s.dir, fmt.Sprintf("%d.snap", old.height)))
	}
	return nil
}

func (s *snapshots) get(height uint64) *snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sn := range s.list {
		if uint64(sn.height) == height {
			return sn
		}
	}
	return nil
}

// ListSnapshots offers the stored snapshots to state-syncing peers.
func (a *App) ListSnapshots(context.Context, *abci.ListSnapshotsRequest) (*abci.ListSnapshotsResponse, error) {
	res := &abci.ListSnapshotsResponse{}
	if a.snaps == nil {
		return res, nil
	}
	a.snaps.mu.Lock()
	defer a.snaps.mu.Unlock()
	for _, sn := range a.snaps.list {
		res.Snapshots = append(res.Snapshots, sn.abci())
	}
	return res, nil
}

// LoadSnapshotChunk serves one chunk of a stored snapshot.
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.LoadSnapshotChunkRequest) (*abci.LoadSnapshotChunkResponse, error) {
	if a.snaps == nil || req.Format != SnapshotFormat {
		return &abci.LoadSnapshotChunkResponse{}, nil
	}
	sn := a.snaps.get(req.Height)
	if sn == nil || req.Chunk >= sn.chunks() {
		return &abci.LoadSnapshotChunkResponse{}, nil
	}
	return &abci.LoadSnapshotChunkResponse{Chunk: sn.chunk(req.Chunk)}, nil
}

// restoring is a snapshot being applied.
type restoring struct {
	snap    *abci.Snapshot
	appHash []byte
	next    uint32
	data    bytes.Buffer
}

// OfferSnapshot accepts a format-1 snapshot when this node has no state.
func (a *App) OfferSnapshot(_ context.Context, req *abci.OfferSnapshotRequest) (*abci.OfferSnapshotResponse, error) {
	reject := func(r abci.OfferSnapshotResult, why string) (*abci.OfferSnapshotResponse, error) {
		a.cfg.Logger.Info("snapshot refused", "why", why)
		return &abci.OfferSnapshotResponse{Result: r}, nil
	}
	sn := req.Snapshot
	switch {
	case sn == nil:
		return reject(abci.OFFER_SNAPSHOT_RESULT_REJECT, "no snapshot")
	case sn.Format != SnapshotFormat:
		return reject(abci.OFFER_SNAPSHOT_RESULT_REJECT_FORMAT, fmt.Sprintf("format %d", sn.Format))
	case sn.Chunks == 0 || len(sn.Metadata) != 32*int(sn.Chunks):
		return reject(abci.OFFER_SNAPSHOT_RESULT_REJECT, "metadata does not list one hash per chunk")
	case a.store.Version() != 0:
		return reject(abci.OFFER_SNAPSHOT_RESULT_ABORT, "node already has state")
	}
	a.restore = &restoring{snap: sn, appHash: req.AppHash}
	return &abci.OfferSnapshotResponse{Result: abci.OFFER_SNAPSHOT_RESULT_ACCEPT}, nil
}

// ApplySnapshotChunk checks each chunk against the snapshot metadata and,
// after the last one, imports the state and checks its root hash.
func (a *App) ApplySnapshotChunk(_ context.Context, req *abci.ApplySnapshotChunkRequest) (*abci.ApplySnapshotChunkResponse, error) {
	r := a.restore
	if r == nil {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}, nil
	}
	if req.Index != r.next {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY, RefetchChunks: []uint32{r.next}}, nil
	}
	sum := sha256.Sum256(req.Chunk)
	if !bytes.Equal(sum[:], r.snap.Metadata[32*req.Index:32*req.Index+32]) {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY,
			RefetchChunks: []uint32{req.Index}, RejectSenders: []string{req.Sender}}, nil
	}
	r.data.Write(req.Chunk)
	r.next++
	if r.next < r.snap.Chunks {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT}, nil
	}
	a.restore = nil
	whole := sha256.Sum256(r.data.Bytes())
	if !bytes.Equal(whole[:], r.snap.Hash) {
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_REJECT_SNAPSHOT}, nil
	}
	if err := a.store.Import(int64(r.snap.Height), &r.data); err != nil {
		a.cfg.Logger.Error("snapshot import failed", "err", err)
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}, nil
	}
	if !bytes.Equal(a.store.Hash(), r.appHash) {
		a.cfg.Logger.Error("snapshot app hash mismatch", "got", fmt.Sprintf("%X", a.store.Hash()), "want", fmt.Sprintf("%X", r.appHash))
		return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ABORT}, nil
	}
	a.check = state.NewOverlay(a.store)
	return &abci.ApplySnapshotChunkResponse{Result: abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT}, nil
}
