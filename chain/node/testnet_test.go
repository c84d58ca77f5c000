package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/client"
	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/keys"
	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/tx"
)

// binary is the xairrosx command built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xairrosx-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "xairrosx")
	build := exec.Command("go", "build", "-o", binary, "github.com/xairrosx/xairrosx/cmd/xairrosx")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building xairrosx:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the xairrosx binary to completion and returns its stdout.
func run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("xairrosx %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), err
}

func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// proc is a running node process.
type proc struct {
	home string
	cmd  *exec.Cmd
	done chan struct{}
}

func start(t testing.TB, home string) *proc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "chain", "start", "--home", home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{home: home, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(p.kill)
	return p
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// freeBase finds a base port such that base..base+span are free on loopback.
func freeBase(t testing.TB, span int) int {
	for range 50 {
		base := 20000 + 10*rand.IntN(3500)
		ok := true
		for p := base; p < base+span && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func dial(t testing.TB, base, i int) *client.Client {
	c, err := client.Dial(fmt.Sprintf("tcp://127.0.0.1:%d", base+10*i+1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func height(c *client.Client) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.RPC.Status(ctx)
	if err != nil {
		return -1
	}
	return st.SyncInfo.LatestBlockHeight
}

// waitHeight waits until every client reports at least h.
func waitHeight(t testing.TB, h int64, timeout time.Duration, cs ...*client.Client) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		low := int64(1 << 62)
		for _, c := range cs {
			low = min(low, height(c))
		}
		if low >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("height %d not reached in %v (lowest node at %d)", h, timeout, low)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func appHashAt(t testing.TB, c *client.Client, h int64) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.RPC.Header(ctx, &h)
	if err != nil {
		t.Fatalf("header %d: %v", h, err)
	}
	return res.Header.AppHash
}

// sendTransfer signs and commits a transfer through the in-process client.
func sendTransfer(t *testing.T, c *client.Client, from *keys.Key, to tx.Address, amount uint64) *client.Result {
	t.Helper()
	priv, _ := from.Private()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := &tx.Tx{Kind: tx.KindTransfer, To: to, Amount: amount}
	if err := c.Prepare(ctx, tr, priv, -1); err != nil {
		t.Fatal(err)
	}
	res, err := c.BroadcastCommit(ctx, tr.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestTestnet runs four validators as separate processes on loopback and
// checks commits, proofs, bad-input rejection, crash tolerance and recovery,
// state sync of a fifth node, equal app hashes at every height, and that a
// fresh in-process replay of the chain reproduces every app hash.
func TestTestnet(t *testing.T) {
	dir := t.TempDir()
	base := freeBase(t, 60)
	mustRun(t, "chain", "testnet", "-n", "4", "--output", dir, "--base-port", fmt.Sprint(base),
		"--chain-id", "xtest", "--fast", "--block-pause", "150ms", "--snapshot-interval", "10", "--snapshot-keep", "30")
	procs := make([]*proc, 4)
	cs := make([]*client.Client, 4)
	for i := range 4 {
		procs[i] = start(t, filepath.Join(dir, fmt.Sprintf("node%d", i)))
		cs[i] = dial(t, base, i)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i := range 6 {
				b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node%d", i), "node.log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("node%d log tail:\n%s", i, b)
			}
		}
	})
	waitHeight(t, 2, 60*time.Second, cs...)
	home0 := filepath.Join(dir, "node0")
	rpc0 := fmt.Sprintf("tcp://127.0.0.1:%d", base+1)
	faucet, err := keys.Load(home0, "faucet")
	if err != nil {
		t.Fatal(err)
	}

	// A transfer through the CLI, then a proven query through the CLI.
	waitHeight(t, 3, 60*time.Second, cs...)
	mustRun(t, "keys", "add", "alice", "--home", home0)
	alice, _ := keys.Load(home0, "alice")
	out := mustRun(t, "tx", "transfer", "--home", home0, "--from", "faucet", "--to", "alice", "--amount", "5000", "--node", rpc0)
	var txOut struct {
		Code   uint32 `json:"code"`
		Height int64  `json:"height"`
	}
	if err := json.Unmarshal([]byte(out), &txOut); err != nil || txOut.Code != 0 || txOut.Height == 0 {
		t.Fatalf("tx transfer output %q (%v)", out, err)
	}
	out = mustRun(t, "query", "account", alice.Address, "--node", fmt.Sprintf("tcp://127.0.0.1:%d", base+21))
	var q struct {
		Balance  uint64 `json:"balance"`
		Verified bool   `json:"verified"`
	}
	if err := json.Unmarshal([]byte(out), &q); err != nil || q.Balance != 5000 || !q.Verified {
		t.Fatalf("query account output %q (%v)", out, err)
	}
	// Transfers submitted to different validators all commit.
	bob := keys.Must(keys.New("bob", nil))
	for i := range 3 {
		r := sendTransfer(t, cs[i], faucet, bob.Addr(), 100)
		if r.Code != tx.CodeOK || r.Height == 0 {
			t.Fatalf("transfer via node%d: code %d %s", i, r.Code, r.Log)
		}
		waitHeight(t, r.Height+1, 60*time.Second, cs...)
	}

	// A contract (the AssemblyScript token) deployed and called through the
	// CLI, its storage read back with a proof; a model registered and run.
	contractCalls(t, home0, rpc0, fmt.Sprintf("tcp://127.0.0.1:%d", base+31), alice)
	inference(t, home0, fmt.Sprintf("tcp://127.0.0.1:%d", base+11), rpc0)

	// Bad input: each rejected by CheckTx with its code, state unchanged.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	before, err := cs[0].Get(ctx, app.AccountKey(faucet.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := faucet.Private()
	acct, _ := app.DecodeAccount(before.Value)
	signed := func(mut func(*tx.Tx)) []byte {
		tr := &tx.Tx{ChainID: "xtest", Nonce: acct.Nonce, Kind: tx.KindTransfer, To: bob.Addr(), Amount: 1}
		mut(tr)
		client.Sign(tr, priv)
		return tr.Encode()
	}
	badSig := signed(func(*tx.Tx) {})
	badSig[len(badSig)-1] ^= 1
	for _, c := range []struct {
		name string
		raw  []byte
		want tx.Code
	}{
		{"garbage", []byte("not a transaction"), tx.CodeMalformed},
		{"wrong chain id", signed(func(t *tx.Tx) { t.ChainID = "other" }), tx.CodeWrongChainID},
		{"bad signature", badSig, tx.CodeBadSignature},
		{"replayed nonce", signed(func(t *tx.Tx) { t.Nonce = acct.Nonce - 1 }), tx.CodeBadNonce},
		{"insufficient funds", signed(func(t *tx.Tx) { t.Amount = acct.Balance }), tx.CodeInsufficientFunds},
		{"fee too low", signed(func(t *tx.Tx) { t.Fee = 1 }), tx.CodeInsufficientFee},
	} {
		r, err := cs[1].BroadcastSync(ctx, c.raw)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Code != c.want || r.Log == "" {
			t.Errorf("%s: code %d (%s), want %d", c.name, r.Code, r.Log, c.want)
		}
	}
	waitHeight(t, before.Height+3, 60*time.Second, cs...)
	after, err := cs[0].Get(ctx, app.AccountKey(faucet.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.AppHash, after.AppHash) {
		t.Errorf("app hash changed from %X to %X after rejected transactions", before.AppHash, after.AppHash)
	}

	// kill -9 one validator: the other three keep committing.
	procs[3].kill()
	h := height(cs[0])
	waitHeight(t, h+5, 60*time.Second, cs[:3]...)
	if r := sendTransfer(t, cs[0], faucet, bob.Addr(), 7); r.Code != tx.CodeOK {
		t.Fatalf("transfer with node3 down: code %d %s", r.Code, r.Log)
	}
	// Restart it: it replays and catches up.
	procs[3] = start(t, filepath.Join(dir, "node3"))
	waitHeight(t, height(cs[0]), 90*time.Second, cs[3])

	// A fifth node joins by state sync.
	trust := int64(2)
	hdr, err := cs[0].RPC.Header(ctx, &trust)
	if err != nil {
		t.Fatal(err)
	}
	var peers []string
	for i := range 4 {
		st, err := cs[i].RPC.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", st.NodeInfo.ID(), base+10*i))
	}
	home4 := filepath.Join(dir, "node4")
	mustRun(t, "chain", "init", "--home", home4, "--genesis", filepath.Join(home0, "config", "genesis.json"),
		"--loopback", "--p2p-port", fmt.Sprint(base+40), "--rpc-port", fmt.Sprint(base+41), "--fast",
		"--peers", strings.Join(peers, ","), "--moniker", "node4",
		"--statesync-rpc", fmt.Sprintf("%s,tcp://127.0.0.1:%d", rpc0, base+11),
		"--trust-height", "2", "--trust-hash", hdr.Header.Hash().String())
	start(t, home4)
	c4 := dial(t, base, 4)
	// A sixth node, started at the same time, replays the whole chain from
	// genesis (blocksync); it could not pass any height whose app hash it
	// computed differently from the header.
	home5 := filepath.Join(dir, "node5")
	mustRun(t, "chain", "init", "--home", home5, "--genesis", filepath.Join(home0, "config", "genesis.json"),
		"--loopback", "--p2p-port", fmt.Sprint(base+50), "--rpc-port", fmt.Sprint(base+51), "--fast",
		"--peers", strings.Join(peers, ","), "--moniker", "node5")
	start(t, home5)
	c5 := dial(t, base, 5)
	waitHeight(t, height(cs[0]), 90*time.Second, c4, c5)
	st4, err := c4.RPC.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st4.SyncInfo.EarliestBlockHeight <= 1 {
		t.Errorf("node4 earliest block %d: it replayed from genesis instead of state-syncing", st4.SyncInfo.EarliestBlockHeight)
	}
	a4, err := c4.Get(ctx, app.AccountKey(bob.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := app.DecodeAccount(a4.Value); got.Balance != 307 {
		t.Errorf("bob's balance on the state-synced node: %d, want 307", got.Balance)
	}

	// App hashes equal on all nodes at every height.
	top := height(cs[0])
	waitHeight(t, top, 60*time.Second, append(cs, c4, c5)...)
	for hh := int64(1); hh <= top; hh++ {
		want := appHashAt(t, cs[0], hh)
		for i := 1; i < 4; i++ {
			if got := appHashAt(t, cs[i], hh); !bytes.Equal(got, want) {
				t.Fatalf("height %d: node%d app hash %X, node0 %X", hh, i, got, want)
			}
		}
		if got := appHashAt(t, c5, hh); !bytes.Equal(got, want) {
			t.Fatalf("height %d: node5 (replayed from genesis) app hash %X, node0 %X", hh, got, want)
		}
		if hh >= st4.SyncInfo.EarliestBlockHeight {
			if got := appHashAt(t, c4, hh); !bytes.Equal(got, want) {
				t.Fatalf("height %d: node4 app hash %X, node0 %X", hh, got, want)
			}
		}
	}

	// Determinism: replaying every block on a fresh in-memory app gives the
	// app hash recorded in the next header.
	replay(t, cs[0], filepath.Join(home0, "config", "genesis.json"), top)
}

// txJSON is the output of `xairrosx tx`.
type txJSON struct {
	Code   uint32 `json:"code"`
	Height int64  `json:"height"`
	Data   string `json:"data"`
	Hash   string `json:"hash"`
	Log    string `json:"log"`
}

func txRun(t *testing.T, args ...string) txJSON {
	t.Helper()
	out := mustRun(t, append([]string{"tx"}, args...)...)
	var r txJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Code != 0 || r.Height == 0 {
		t.Fatalf("tx %v: %q (%v)", args, out, err)
	}
	return r
}

func contractCalls(t *testing.T, home, rpc, otherRPC string, holder *keys.Key) {
	t.Helper()
	out := t.TempDir()
	if err := contracts.Build(out, "token/token.ts"); err != nil {
		t.Fatal(err)
	}
	r := txRun(t, "deploy", "--home", home, "--from", "faucet", "--node", rpc, "--wasm", filepath.Join(out, "token.wasm"))
	addr := r.Data
	txRun(t, "call", "--home", home, "--from", "faucet", "--node", otherRPC, "--contract", addr, "--method", "init", "--gas", "1000000")
	mint := contracts.Enc().Bytes(holder.Addr().Bytes()).U64(777).Done()
	r = txRun(t, "call", "--home", home, "--from", "faucet", "--node", rpc, "--contract", addr, "--method", "mint",
		"--input", hex.EncodeToString(mint), "--gas", "1000000")
	key := hex.EncodeToString(append([]byte("b/"), holder.Addr().Bytes()...))
	q := mustRun(t, "query", "storage", addr, key, "--node", otherRPC)
	var v struct {
		Value    string `json:"value"`
		Verified bool   `json:"verified"`
	}
	if err := json.Unmarshal([]byte(q), &v); err != nil || !v.Verified || v.Value != "0903000000000000" {
		t.Fatalf("token balance in state: %q (%v)", q, err)
	}
}

func inference(t *testing.T, home, rpc, otherRPC string) {
	t.Helper()
	modelPath := filepath.Join("..", "..", "ai", "testdata", "mnist-8-int8.onnx")
	model, err := os.ReadFile(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := infer.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	n := 1
	for _, d := range spec.InputShape {
		n *= d
	}
	input := make([]byte, n)
	for i := range input { // a vertical stroke, roughly a "1"
		if x := i % 28; x >= 12 && x <= 15 {
			input[i] = 255
		}
	}
	inFile := filepath.Join(t.TempDir(), "digit.bin")
	os.WriteFile(inFile, input, 0o644)
	r := txRun(t, "register-model", "--home", home, "--from", "faucet", "--node", rpc, "--file", modelPath)
	r = txRun(t, "infer", "--home", home, "--from", "faucet", "--node", otherRPC, "--model", r.Data, "--input-file", inFile)
	want, err := infer.RunInt8(model, input)
	if err != nil {
		t.Fatal(err)
	}
	if r.Data != hex.EncodeToString(want) {
		t.Fatalf("on-chain output %s, local RunInt8 %x", r.Data, want)
	}
	q := mustRun(t, "query", "inference", r.Hash, "--node", rpc)
	if !strings.Contains(q, hex.EncodeToString(want)) || !strings.Contains(q, `"verified": true`) {
		t.Fatalf("query inference: %s", q)
	}
	// A float model is refused at registration with its code.
	if out, err := run(t, "tx", "register-model", "--home", home, "--from", "faucet", "--node", rpc, "--file",
		filepath.Join("..", "..", "ai", "testdata", "mnist-8.onnx")); err == nil || !strings.Contains(out, `"code": 15`) {
		t.Fatalf("float model registration: %q %v", out, err)
	}
}

// replay executes blocks 1..top-1 from c on a fresh application and checks
// each resulting app hash against the header of the following block.
func replay(t *testing.T, c *client.Client, genesisFile string, top int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gen, err := cmttypes.GenesisDocFromFile(genesisFile)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := app.New(state.OpenMem(), app.Config{ChainID: gen.ChainID, Infer: infer.RunInt8,
		CheckModel: func(m []byte) error { _, err := infer.Inspect(m); return err }})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.InitGenesis(gen.AppState, gen.InitialHeight); err != nil {
		t.Fatal(err)
	}
	if got, want := fresh.Store().WorkingHash(), appHashAt(t, c, 1); !bytes.Equal(got, want) {
		t.Fatalf("genesis app hash %X, header 1 has %X", got, want)
	}
	for h := int64(1); h < top; h++ {
		b, err := c.RPC.Block(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		fresh.ExecuteBlock(ctx, h, b.Block.Txs.ToSliceOfBytes())
		if _, _, err := fresh.Store().Commit(); err != nil {
			t.Fatal(err)
		}
		if got, want := fresh.Store().Hash(), appHashAt(t, c, h+1); !bytes.Equal(got, want) {
			t.Fatalf("replay of block %d: app hash %X, header %d has %X", h, got, h+1, want)
		}
	}
}
