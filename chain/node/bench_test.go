package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/chain/client"
	"github.com/xairrosx/xairrosx/chain/keys"
	"github.com/xairrosx/xairrosx/chain/tx"
)

// BenchmarkCommittedTransfers measures committed transfer throughput and
// submit-to-commit latency on a loopback testnet of 1 and 4 validator
// processes (all on this machine's cores). Run with -benchtime 1x; each
// iteration offers txsPerRun transfers from 8 senders, spread over the nodes.
func BenchmarkCommittedTransfers(b *testing.B) {
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) { benchTransfers(b, n) })
	}
}

const txsPerRun = 4000

func benchTransfers(b *testing.B, n int) {
	dir := b.TempDir()
	base := freeBase(b, 10*n+10)
	if _, err := run(b, "chain", "testnet", "-n", fmt.Sprint(n), "--output", dir, "--base-port", fmt.Sprint(base),
		"--chain-id", "xbench", "--fast", "--block-pause", "100ms", "--snapshot-interval", "0"); err != nil {
		b.Fatal(err)
	}
	cs := make([]*client.Client, n)
	for i := range n {
		start(b, filepath.Join(dir, fmt.Sprintf("node%d", i)))
		c, err := client.Dial(fmt.Sprintf("tcp://127.0.0.1:%d", base+10*i+1))
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	waitHeight(b, 2, 60*time.Second, cs...)
	for _, c := range cs {
		for {
			st, err := c.RPC.Status(context.Background())
			if err == nil && !st.SyncInfo.CatchingUp {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	faucet, err := keys.Load(filepath.Join(dir, "node0"), "faucet")
	if err != nil {
		b.Fatal(err)
	}
	fpriv, _ := faucet.Private()
	ctx := context.Background()
	// Fund 8 senders.
	const senders = 8
	sks := make([]*keys.Key, senders)
	for i := range sks {
		sks[i] = keys.Must(keys.New(fmt.Sprintf("s%d", i), nil))
		tr := &tx.Tx{Kind: tx.KindTransfer, To: sks[i].Addr(), Amount: 10_000_000_000}
		if err := cs[0].Prepare(ctx, tr, fpriv, int64(i)); err != nil {
			b.Fatal(err)
		}
		if r, err := cs[0].BroadcastSync(ctx, tr.Encode()); err != nil || r.Code != 0 {
			b.Fatalf("fund: %v %v", err, r)
		}
	}
	for {
		a, _, err := cs[0].Account(ctx, sks[senders-1].Addr())
		if err == nil && a.Balance > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitHeight(b, height(cs[0])+1, 30*time.Second, cs...)
	for range b.N {
		// Pre-sign everything so that signing is not measured.
		per := txsPerRun / senders
		raws := make([][][]byte, senders)
		nonce := make([]uint64, senders)
		for s := range senders {
			priv, _ := sks[s].Private()
			a, _, err := cs[0].Account(ctx, sks[s].Addr())
			if err != nil {
				b.Fatal(err)
			}
			nonce[s] = a.Nonce
			for j := range per {
				tr := &tx.Tx{ChainID: "xbench", Nonce: a.Nonce + uint64(j), Kind: tx.KindTransfer, To: faucet.Addr(), Amount: 1}
				client.Sign(tr, priv)
				raws[s] = append(raws[s], tr.Encode())
			}
		}
		submitted := make(map[[32]byte]time.Time, txsPerRun)
		var mu sync.Mutex
		var wg sync.WaitGroup
		startH := height(cs[0])
		start := time.Now()
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := cs[s%n]
				for _, raw := range raws[s] {
					// Record before submitting: the block may be seen
					// before BroadcastSync returns.
					mu.Lock()
					submitted[tx.Hash(raw)] = time.Now()
					mu.Unlock()
					r, err := c.BroadcastSync(ctx, raw)
					if err != nil || r.Code != 0 {
						b.Errorf("submit: %v %+v", err, r)
						return
					}
				}
			}()
		}
		// Watch blocks on node0 and time each transaction's commit.
		var lat []time.Duration
		committed, h := 0, startH+1
		var end time.Time
		deadline := time.Now().Add(2 * time.Minute)
		for committed < txsPerRun && time.Now().Before(deadline) {
			hh := h
			blk, err := cs[0].RPC.Block(ctx, &hh)
			if err != nil {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			seen := time.Now()
			mu.Lock()
			for _, raw := range blk.Block.Txs {
				if t0, ok := submitted[tx.Hash(raw)]; ok {
					lat = append(lat, seen.Sub(t0))
					committed++
				}
			}
			mu.Unlock()
			end = seen
			h++
		}
		wg.Wait()
		if committed < txsPerRun {
			for i := range n {
				log, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node%d", i), "node.log"))
				for _, l := range strings.Split(string(log), "\n") {
					if strings.Contains(l, "echeck") || strings.Contains(l, "E[") {
						b.Logf("node%d: %s", i, l)
					}
				}
			}
			b.Fatalf("only %d of %d transfers committed", committed, txsPerRun)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		secs := end.Sub(start).Seconds()
		b.ReportMetric(float64(committed)/secs, "tx/s")
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(h-startH-1), "blocks")
	}
}
