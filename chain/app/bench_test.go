package app_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/client"
	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/tx"
	"github.com/xairrosx/xairrosx/chain/vm"
)

// benchApp returns an app whose genesis funds n senders.
func benchApp(b *testing.B, n int, cfg app.Config) (*app.App, []ed25519.PrivateKey) {
	cfg.ChainID = chainID
	a, err := app.New(state.OpenMem(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	ks := make([]ed25519.PrivateKey, n)
	var g app.GenesisState
	for i := range ks {
		seed := make([]byte, 32)
		binary.LittleEndian.PutUint64(seed, uint64(i)+100)
		ks[i] = ed25519.NewKeyFromSeed(seed)
		g.Accounts = append(g.Accounts, app.GenesisAccount{Address: addr(ks[i]).String(), Balance: 1 << 40})
	}
	st, _ := json.Marshal(g)
	if _, err := a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: chainID, InitialHeight: 1, AppStateBytes: st}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := a.Store().Commit(); err != nil {
		b.Fatal(err)
	}
	return a, ks
}

// BenchmarkValidateBlock1000 is the validation time of a 1,000-transfer
// block from 1,000 senders: decoding, one batch signature verification,
// execution and the new IAVL root (FinalizeBlock without Commit).
func BenchmarkValidateBlock1000(b *testing.B) {
	a, ks := benchApp(b, 1000, app.Config{})
	txs := make([][]byte, len(ks))
	for i, k := range ks {
		t := &tx.Tx{ChainID: chainID, Kind: tx.KindTransfer, To: addr(ks[(i+1)%len(ks)]), Amount: 1}
		client.Sign(t, k)
		txs[i] = t.Encode()
	}
	ctx := context.Background()
	for b.Loop() {
		for i, r := range a.ExecuteBlock(ctx, 1, txs) {
			if r.Code != 0 {
				b.Fatalf("tx %d: %s", i, r.Log)
			}
		}
		b.StopTimer()
		a.Store().Rollback()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/block")
}

// BenchmarkInferTx executes blocks of MNIST int8 inference transactions
// (ai/infer.RunInt8 on every one) and reports inference transactions per
// second of block execution on one core.
func BenchmarkInferTx(b *testing.B) {
	model, err := os.ReadFile(filepath.Join("..", "..", "ai", "testdata", "mnist-8-int8.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	a, ks := benchApp(b, 100, app.Config{Infer: infer.RunInt8})
	ctx := context.Background()
	reg := &tx.Tx{ChainID: chainID, Kind: tx.KindRegisterModel, Code: model}
	client.Sign(reg, ks[0])
	if r := a.ExecuteBlock(ctx, 1, [][]byte{reg.Encode()}); r[0].Code != 0 {
		b.Fatal(r[0].Log)
	}
	a.Store().Commit()
	sum := sha256.Sum256(model)
	txs := make([][]byte, len(ks))
	for i, k := range ks {
		input := make([]byte, 28*28)
		for j := range input {
			input[j] = byte(i * j)
		}
		t := &tx.Tx{ChainID: chainID, Nonce: 0, Kind: tx.KindInfer, ModelHash: sum, Input: input}
		if i == 0 {
			t.Nonce = 1
		}
		client.Sign(t, k)
		txs[i] = t.Encode()
	}
	n := 0
	for b.Loop() {
		for i, r := range a.ExecuteBlock(ctx, 2, txs) {
			if r.Code != 0 {
				b.Fatalf("tx %d: %s", i, r.Log)
			}
		}
		n += len(txs)
		b.StopTimer()
		a.Store().Rollback()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "infer-tx/s")
}

// BenchmarkContractCallTx executes blocks of 100 token-contract transfers
// (the AssemblyScript example) on wazero's interpreter and compiler and
// reports contract gas and call transactions per second of block execution.
func BenchmarkContractCallTx(b *testing.B) {
	for _, mode := range []struct {
		name     string
		compiler bool
	}{{"interpreter", false}, {"compiler", true}} {
		b.Run(mode.name, func(b *testing.B) {
			a, ks := benchApp(b, 100, app.Config{VM: vm.Config{Compiler: mode.compiler}})
			ctx := context.Background()
			nonce := make([]uint64, len(ks))
			signed := func(i int, t *tx.Tx) []byte {
				t.ChainID, t.Nonce = chainID, nonce[i]
				nonce[i]++
				client.Sign(t, ks[i])
				return t.Encode()
			}
			run := func(height int64, txs ...[]byte) []*abci.ExecTxResult {
				res := a.ExecuteBlock(ctx, height, txs)
				for i, r := range res {
					if r.Code != 0 {
						b.Fatalf("tx %d: %s", i, r.Log)
					}
				}
				if _, _, err := a.Store().Commit(); err != nil {
					b.Fatal(err)
				}
				return res
			}
			r := run(1, signed(0, &tx.Tx{Kind: tx.KindDeploy, Code: wasmB(b, "token")}))
			var token tx.Address
			copy(token[:], r[0].Data)
			setup := [][]byte{signed(0, &tx.Tx{Kind: tx.KindCall, To: token, Method: "init", GasLimit: 1_000_000})}
			for i := range ks {
				setup = append(setup, signed(0, &tx.Tx{Kind: tx.KindCall, To: token, Method: "mint", GasLimit: 1_000_000,
					Input: contracts.Enc().Bytes(addr(ks[i]).Bytes()).U64(1 << 30).Done()}))
			}
			run(2, setup...)
			txs := make([][]byte, len(ks))
			for i := range ks {
				txs[i] = signed(i, &tx.Tx{Kind: tx.KindCall, To: token, Method: "transfer", GasLimit: 1_000_000,
					Input: contracts.Enc().Bytes(addr(ks[(i+1)%len(ks)]).Bytes()).U64(1).Done()})
			}
			var gas uint64
			n := 0
			for b.Loop() {
				for i, r := range a.ExecuteBlock(ctx, 3, txs) {
					if r.Code != 0 {
						b.Fatalf("tx %d: %s", i, r.Log)
					}
					gas += uint64(r.GasUsed)
				}
				n += len(txs)
				b.StopTimer()
				a.Store().Rollback()
				b.StartTimer()
			}
			b.ReportMetric(float64(gas)/b.Elapsed().Seconds(), "gas/s")
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "call-tx/s")
		})
	}
}
