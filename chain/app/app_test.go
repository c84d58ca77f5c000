package app_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/client"
	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/tx"
	"github.com/xairrosx/xairrosx/chain/vm"
)

const chainID = "test-chain"

// fakeInfer stands in for ai/infer.RunInt8 in unit tests: a deterministic
// function of model and input that fails on empty input.
func fakeInfer(model, input []byte) ([]byte, error) {
	if len(input) == 0 {
		return nil, errors.New("empty input tensor")
	}
	h := sha256.Sum256(append(append([]byte{}, model...), input...))
	return h[:10], nil
}

// chain drives an App the way CometBFT does, without CometBFT.
type chain struct {
	t      *testing.T
	app    *app.App
	height int64
	nonces map[tx.Address]uint64
}

func key(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32))
}

func addr(k ed25519.PrivateKey) tx.Address { return tx.AddressOf(k.Public().(ed25519.PublicKey)) }

var alice, bob, carol = key(1), key(2), key(3)

func newChain(t *testing.T, cfg app.Config) *chain {
	t.Helper()
	cfg.ChainID = chainID
	a, err := app.New(state.OpenMem(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	gen, _ := json.Marshal(app.GenesisState{Accounts: []app.GenesisAccount{
		{Address: addr(alice).String(), Balance: 1_000_000_000},
		{Address: addr(bob).String(), Balance: 100_000_000},
	}})
	if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: chainID, InitialHeight: 1, AppStateBytes: gen}); err != nil {
		t.Fatal(err)
	}
	return &chain{t: t, app: a, nonces: map[tx.Address]uint64{}}
}

// signed builds a transaction from k with its next nonce and minimum fee.
func (c *chain) signed(k ed25519.PrivateKey, t *tx.Tx) []byte {
	t.ChainID = chainID
	t.Nonce = c.nonces[addr(k)]
	client.Sign(t, k)
	return t.Encode()
}

// block finalizes and commits a block; nonces of included senders advance
// for every transaction that passed the pre-execution checks.
func (c *chain) block(txs ...[]byte) []*abci.ExecTxResult {
	c.t.Helper()
	c.height++
	res, err := c.app.FinalizeBlock(context.Background(), &abci.FinalizeBlockRequest{Height: c.height, Txs: txs})
	if err != nil {
		c.t.Fatal(err)
	}
	if !bytes.Equal(res.AppHash, c.app.Store().WorkingHash()) {
		c.t.Fatal("FinalizeBlock app hash differs from the working hash")
	}
	if _, err := c.app.Commit(context.Background(), &abci.CommitRequest{}); err != nil {
		c.t.Fatal(err)
	}
	for i, r := range res.TxResults {
		if d, err := tx.Decode(txs[i]); err == nil && r.Code != uint32(tx.CodeWrongChainID) &&
			r.Code != uint32(tx.CodeBadSignature) && r.Code != uint32(tx.CodeBadNonce) &&
			r.Code != uint32(tx.CodeInsufficientFee) && r.Code != uint32(tx.CodeInsufficientFunds) && r.Code != uint32(tx.CodeGasLimit) {
			c.nonces[d.Sender()] = d.Nonce + 1
		}
	}
	return res.TxResults
}

// one runs one transaction in its own block and returns its result.
func (c *chain) one(k ed25519.PrivateKey, t *tx.Tx) *abci.ExecTxResult {
	c.t.Helper()
	return c.block(c.signed(k, t))[0]
}

func (c *chain) check(raw []byte) *abci.CheckTxResponse {
	r, err := c.app.CheckTx(context.Background(), &abci.CheckTxRequest{Tx: raw, Type: abci.CHECK_TX_TYPE_CHECK})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *chain) balance(a tx.Address) uint64 {
	v, _ := c.app.Store().Get(app.AccountKey(a))
	acct, _ := app.DecodeAccount(v)
	return acct.Balance
}

func TestTransfersAndRejections(t *testing.T) {
	c := newChain(t, app.Config{})
	r := c.one(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 500})
	if r.Code != 0 {
		t.Fatalf("transfer: %d %s", r.Code, r.Log)
	}
	if got := c.balance(addr(carol)); got != 500 {
		t.Fatalf("carol has %d, want 500", got)
	}
	fee := app.RequiredFee(len(c.signed(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 500})), 0)
	if got := c.balance(addr(alice)); got != 1_000_000_000-500-fee {
		t.Fatalf("alice has %d", got)
	}

	replay := c.signed(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 1})
	c.block(replay)
	badSig := c.signed(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 1})
	badSig[len(badSig)-5] ^= 0x40
	wrongChain := &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 1, ChainID: "other", Nonce: c.nonces[addr(alice)]}
	client.Sign(wrongChain, alice)
	lowFee := &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 1, ChainID: chainID, Nonce: c.nonces[addr(alice)], Fee: 3}
	lowFee.Sign(alice)
	cases := []struct {
		name string
		raw  []byte
		want tx.Code
	}{
		{"malformed", []byte{'X', 1, 0xff}, tx.CodeMalformed},
		{"oversized", make([]byte, tx.MaxTxBytes+1), tx.CodeTooLarge},
		{"wrong chain id", wrongChain.Encode(), tx.CodeWrongChainID},
		{"bad signature", badSig, tx.CodeBadSignature},
		{"replayed nonce", replay, tx.CodeBadNonce},
		{"fee too low", lowFee.Encode(), tx.CodeInsufficientFee},
		{"insufficient funds", c.signed(key(4), &tx.Tx{Kind: tx.KindTransfer, To: addr(carol), Amount: 5000}), tx.CodeInsufficientFunds},
		{"gas limit", c.signed(alice, &tx.Tx{Kind: tx.KindCall, GasLimit: app.MaxGasLimit + 1}), tx.CodeGasLimit},
	}
	root := c.app.Store().Hash()
	for _, tc := range cases {
		if r := c.check(tc.raw); r.Code != uint32(tc.want) || r.Log == "" {
			t.Errorf("CheckTx %s: code %d %q, want %d", tc.name, r.Code, r.Log, tc.want)
		}
	}
	raws := make([][]byte, len(cases))
	for i, tc := range cases {
		raws[i] = tc.raw
	}
	res := c.block(raws...)
	for i, tc := range cases {
		if res[i].Code != uint32(tc.want) {
			t.Errorf("FinalizeBlock %s: code %d %q, want %d", tc.name, res[i].Code, res[i].Log, tc.want)
		}
	}
	if !bytes.Equal(c.app.Store().Hash(), root) {
		t.Error("rejected transactions changed the state root")
	}
}

func TestProposalGasLimit(t *testing.T) {
	c := newChain(t, app.Config{})
	var txs [][]byte
	for range 4 {
		txs = append(txs, c.signed(alice, &tx.Tx{Kind: tx.KindCall, GasLimit: app.MaxGasLimit}))
		c.nonces[addr(alice)]++
	}
	ctx := context.Background()
	prep, _ := c.app.PrepareProposal(ctx, &abci.PrepareProposalRequest{Txs: txs, MaxTxBytes: 1 << 20})
	if want := int(app.MaxBlockGas / app.MaxGasLimit); len(prep.Txs) != want {
		t.Fatalf("proposal has %d max-gas transactions, want %d", len(prep.Txs), want)
	}
	if r, _ := c.app.ProcessProposal(ctx, &abci.ProcessProposalRequest{Txs: txs}); r.Status != abci.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatal("a proposal over the block gas limit was accepted")
	}
	if r, _ := c.app.ProcessProposal(ctx, &abci.ProcessProposalRequest{Txs: prep.Txs}); r.Status != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatal("the prepared proposal was rejected")
	}
}

func TestCheckTxTracksPendingNonces(t *testing.T) {
	c := newChain(t, app.Config{})
	first := c.signed(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(bob), Amount: 1})
	c.nonces[addr(alice)]++
	second := c.signed(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(bob), Amount: 1})
	if r := c.check(second); r.Code != uint32(tx.CodeBadNonce) {
		t.Fatalf("nonce gap admitted: %d", r.Code)
	}
	if r := c.check(first); r.Code != 0 {
		t.Fatalf("first: %d %s", r.Code, r.Log)
	}
	if r := c.check(second); r.Code != 0 {
		t.Fatalf("second after first: %d %s", r.Code, r.Log)
	}
	if r := c.check(first); r.Code != uint32(tx.CodeBadNonce) {
		t.Fatalf("first admitted twice: %d", r.Code)
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func wasm(t *testing.T, name string) []byte {
	t.Helper()
	return wasmB(t, name)
}

// wasmB returns the compiled example or test contract name, building all of
// them once per test binary.
func wasmB(t testing.TB, name string) []byte {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "xairrosx-app-contracts")
		if buildErr == nil {
			buildErr = contracts.Build(buildDir, "token/token.ts", "aigate/aigate.ts", "testdata/hostile.ts", "testdata/float.ts")
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	b, err := os.ReadFile(filepath.Join(buildDir, name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func TestContracts(t *testing.T) {
	c := newChain(t, app.Config{})
	r := c.one(alice, &tx.Tx{Kind: tx.KindDeploy, Code: wasm(t, "token")})
	if r.Code != 0 || len(r.Data) != tx.AddressLen {
		t.Fatalf("deploy: %d %s", r.Code, r.Log)
	}
	var token tx.Address
	copy(token[:], r.Data)
	call := func(k ed25519.PrivateKey, method string, input []byte, gas uint64) *abci.ExecTxResult {
		return c.one(k, &tx.Tx{Kind: tx.KindCall, To: token, Method: method, Input: input, GasLimit: gas})
	}
	for _, step := range []struct {
		k      ed25519.PrivateKey
		method string
		input  []byte
	}{
		{alice, "init", nil},
		{alice, "mint", contracts.Enc().Bytes(addr(alice).Bytes()).U64(1000).Done()},
		{alice, "transfer", contracts.Enc().Bytes(addr(bob).Bytes()).U64(250).Done()},
	} {
		if r := call(step.k, step.method, step.input, 5_000_000); r.Code != 0 || r.GasUsed == 0 {
			t.Fatalf("%s: code %d gas %d: %s", step.method, r.Code, r.GasUsed, r.Log)
		}
	}
	r = call(bob, "balance", contracts.Enc().Bytes(addr(bob).Bytes()).Done(), 5_000_000)
	if r.Code != 0 || len(r.Data) != 8 || binary.LittleEndian.Uint64(r.Data) != 250 {
		t.Fatalf("balance: code %d data %x %s", r.Code, r.Data, r.Log)
	}
	// Storage is under the contract's prefix in the proven state.
	v, _ := c.app.Store().Get(app.StorageKey(token[:], append([]byte("b/"), addr(bob).Bytes()...)))
	if len(v) != 8 || binary.LittleEndian.Uint64(v) != 250 {
		t.Fatalf("storage value %x", v)
	}
	// A failing call: contract error code, storage untouched.
	root := c.app.Store().Hash()
	if r := call(bob, "transfer", contracts.Enc().Bytes(addr(carol).Bytes()).U64(10_000).Done(), 5_000_000); r.Code != uint32(tx.CodeContractFailed) {
		t.Fatalf("overdraft: code %d %s", r.Code, r.Log)
	}
	if v2, _ := c.app.Store().Get(app.StorageKey(token[:], append([]byte("b/"), addr(bob).Bytes()...))); !bytes.Equal(v, v2) {
		t.Fatal("failed call changed storage")
	}
	if bytes.Equal(root, c.app.Store().Hash()) {
		t.Fatal("failed call did not charge its fee")
	}

	// Bad contracts and hostile behaviour.
	if r := c.one(alice, &tx.Tx{Kind: tx.KindDeploy, Code: wasm(t, "float")}); r.Code != uint32(tx.CodeInvalidContract) {
		t.Fatalf("float deploy: %d %s", r.Code, r.Log)
	}
	if r := c.one(alice, &tx.Tx{Kind: tx.KindDeploy, Code: []byte("not wasm")}); r.Code != uint32(tx.CodeInvalidContract) {
		t.Fatalf("garbage deploy: %d %s", r.Code, r.Log)
	}
	r = c.one(alice, &tx.Tx{Kind: tx.KindDeploy, Code: wasm(t, "hostile")})
	var hostile tx.Address
	copy(hostile[:], r.Data)
	for _, hc := range []struct {
		method string
		input  []byte
		gas    uint64
		want   tx.Code
	}{
		{"spin", nil, 2_000_000, tx.CodeOutOfGas},
		{"membomb", nil, app.MaxGasLimit, tx.CodeMemoryLimit},
		{"recurse", contracts.Enc().U64(1_000_000).Done(), app.MaxGasLimit, tx.CodeCallDepth},
		{"reenter", nil, 50_000_000, tx.CodeCallDepth},
	} {
		raw := c.signed(alice, &tx.Tx{Kind: tx.KindCall, To: hostile, Method: hc.method, Input: hc.input, GasLimit: hc.gas})
		if r := c.check(raw); r.Code != uint32(hc.want) {
			t.Errorf("CheckTx %s: code %d %s, want %d", hc.method, r.Code, r.Log, hc.want)
		}
		if r := c.block(raw)[0]; r.Code != uint32(hc.want) || r.Log == "" {
			t.Errorf("%s: code %d %s, want %d", hc.method, r.Code, r.Log, hc.want)
		}
	}
	if r := c.one(alice, &tx.Tx{Kind: tx.KindCall, To: addr(carol), Method: "x", GasLimit: 1000}); r.Code != uint32(tx.CodeUnknownContract) {
		t.Fatalf("call to an account: %d %s", r.Code, r.Log)
	}
}

func TestInference(t *testing.T) {
	c := newChain(t, app.Config{Infer: fakeInfer})
	model := bytes.Repeat([]byte("model"), 100)
	r := c.one(alice, &tx.Tx{Kind: tx.KindRegisterModel, Code: model})
	sum := sha256.Sum256(model)
	if r.Code != 0 || !bytes.Equal(r.Data, sum[:]) {
		t.Fatalf("register: %d %s", r.Code, r.Log)
	}
	if r := c.one(alice, &tx.Tx{Kind: tx.KindRegisterModel, Code: model}); r.Code != uint32(tx.CodeModelExists) {
		t.Fatalf("duplicate register: %d", r.Code)
	}
	in := &tx.Tx{Kind: tx.KindInfer, ModelHash: sum, Input: []byte{1, 2, 3}}
	raw := c.signed(bob, in)
	r = c.block(raw)[0]
	want, _ := fakeInfer(model, []byte{1, 2, 3})
	if r.Code != 0 || !bytes.Equal(r.Data, want) {
		t.Fatalf("infer: %d %x %s", r.Code, r.Data, r.Log)
	}
	h := tx.Hash(raw)
	if v, _ := c.app.Store().Get(app.InferKey(h[:])); !bytes.Equal(v, want) {
		t.Fatalf("output in state %x, want %x", v, want)
	}
	if r := c.one(bob, &tx.Tx{Kind: tx.KindInfer, ModelHash: [32]byte{1}, Input: []byte{1}}); r.Code != uint32(tx.CodeUnknownModel) {
		t.Fatalf("unknown model: %d", r.Code)
	}
	if r := c.one(bob, &tx.Tx{Kind: tx.KindInfer, ModelHash: sum}); r.Code != uint32(tx.CodeInferenceFailed) {
		t.Fatalf("bad input: %d", r.Code)
	}
	// Without an engine, inference fails cleanly.
	c2 := newChain(t, app.Config{})
	c2.one(alice, &tx.Tx{Kind: tx.KindRegisterModel, Code: model})
	if r := c2.one(alice, &tx.Tx{Kind: tx.KindInfer, ModelHash: sum, Input: []byte{1}}); r.Code != uint32(tx.CodeInferenceFailed) {
		t.Fatalf("no engine: %d", r.Code)
	}
}

// workload returns a fixed sequence of blocks covering every kind.
func workload(t *testing.T, c *chain) [][][]byte {
	var blocks [][][]byte
	for i := range 6 {
		var txs [][]byte
		for j := range 5 {
			txs = append(txs, c.signed(alice, &tx.Tx{Kind: tx.KindTransfer, To: addr(key(byte(10 + j))), Amount: uint64(i*10 + j)}))
			c.nonces[addr(alice)]++
		}
		blocks = append(blocks, txs)
	}
	blocks = append(blocks, [][]byte{
		c.signed(alice, &tx.Tx{Kind: tx.KindRegisterModel, Code: []byte("tiny model")}),
		c.signed(bob, &tx.Tx{Kind: tx.KindDeploy, Code: wasm(t, "token")}),
	})
	return blocks
}

func TestDeterministicReplay(t *testing.T) {
	a := newChain(t, app.Config{Infer: fakeInfer})
	blocks := workload(t, a)
	b := newChain(t, app.Config{Infer: fakeInfer, VM: vm.Config{Compiler: true}})
	for i, txs := range blocks {
		ra, rb := a.block(txs...), b.block(txs...)
		for j := range ra {
			if ra[j].Code != 0 || ra[j].Code != rb[j].Code || ra[j].GasUsed != rb[j].GasUsed {
				t.Fatalf("block %d tx %d: results %d/%d", i, j, ra[j].Code, rb[j].Code)
			}
		}
		if !bytes.Equal(a.app.Store().Hash(), b.app.Store().Hash()) {
			t.Fatalf("block %d: app hashes differ", i+1)
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	src := newChain(t, app.Config{SnapshotDir: dir, SnapshotInterval: 3, SnapshotKeep: 2})
	for _, txs := range workload(t, src) {
		src.block(txs...)
	}
	ctx := context.Background()
	list, _ := src.app.ListSnapshots(ctx, &abci.ListSnapshotsRequest{})
	if len(list.Snapshots) != 2 || list.Snapshots[1].Height != 6 {
		t.Fatalf("snapshots: %+v", list.Snapshots)
	}
	sn := list.Snapshots[1]
	chunk, _ := src.app.LoadSnapshotChunk(ctx, &abci.LoadSnapshotChunkRequest{Height: sn.Height, Format: sn.Format, Chunk: 0})

	// The app hash of height 6 is what the restoring node trusts.
	want, _, err := func() ([]byte, int64, error) {
		_, _, root, h, err := src.app.Store().Prove([]byte("x"), 6)
		return root, h, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := app.New(state.OpenMem(), app.Config{ChainID: chainID})
	if err != nil {
		t.Fatal(err)
	}
	offer, _ := dst.OfferSnapshot(ctx, &abci.OfferSnapshotRequest{Snapshot: sn, AppHash: want})
	if offer.Result != abci.OFFER_SNAPSHOT_RESULT_ACCEPT {
		t.Fatalf("offer: %v", offer.Result)
	}
	bad := append([]byte{}, chunk.Chunk...)
	bad[len(bad)/2] ^= 1
	r, _ := dst.ApplySnapshotChunk(ctx, &abci.ApplySnapshotChunkRequest{Index: 0, Chunk: bad, Sender: "evil"})
	if r.Result != abci.APPLY_SNAPSHOT_CHUNK_RESULT_RETRY || len(r.RejectSenders) != 1 {
		t.Fatalf("corrupt chunk: %v", r)
	}
	r, _ = dst.ApplySnapshotChunk(ctx, &abci.ApplySnapshotChunkRequest{Index: 0, Chunk: chunk.Chunk, Sender: "good"})
	if r.Result != abci.APPLY_SNAPSHOT_CHUNK_RESULT_ACCEPT {
		t.Fatalf("apply: %v", r.Result)
	}
	info, _ := dst.Info(ctx, &abci.InfoRequest{})
	if info.LastBlockHeight != 6 || !bytes.Equal(info.LastBlockAppHash, want) {
		t.Fatalf("restored at %d %X, want 6 %X", info.LastBlockHeight, info.LastBlockAppHash, want)
	}
	// A snapshot offered to a node with state is refused.
	if o, _ := src.app.OfferSnapshot(ctx, &abci.OfferSnapshotRequest{Snapshot: sn, AppHash: want}); o.Result == abci.OFFER_SNAPSHOT_RESULT_ACCEPT {
		t.Fatal("snapshot accepted over existing state")
	}
}
