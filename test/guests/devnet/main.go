// Command devnet runs a single-validator XairrosX chain (CometBFT consensus,
// IAVL state on goleveldb) with its home in DIR/chain, DIR being the first
// argument: /data, the persistent disk, in test/storage; /tmp in
// test/kernel. The first run
// initializes the home; every run starts the node from what is stored,
// waits until it has committed 5 blocks beyond the height it started from,
// stops it and prints the heights:
//
//	start height: H0 (the last block stored before the node started)
//	reached: H1
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/node"
)

// status asks the node's RPC for the latest block height.
func status() (int64, error) {
	resp, err := http.Get("http://127.0.0.1:26657/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var st struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.Result.SyncInfo.LatestBlockHeight, 10, 64)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: devnet DIR")
		os.Exit(2)
	}
	home := filepath.Join(os.Args[1], "chain")
	if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); err != nil {
		_, err = node.Init(home, node.Options{ChainID: "devnet", Moniker: "guest", Loopback: true, Fast: true, BlockPause: 50 * time.Millisecond, Settings: node.DefaultSettings()}, "", 1_000_000)
		fmt.Println("init:", err)
		if err != nil {
			os.Exit(1)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- node.Run(ctx, home, infer.RunInt8, func(m []byte) error { _, err := infer.Inspect(m); return err }, io.Discard)
	}()
	deadline := time.Now().Add(150 * time.Second)
	start, h := int64(-1), int64(-1)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			fmt.Println("node stopped early:", err)
			os.Exit(1)
		default:
		}
		if v, err := status(); err == nil {
			if start < 0 {
				start = v // the first answer: what the node loaded
			}
			h = v
			if h >= start+5 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println("start height:", start)
	fmt.Println("reached:", h)
	cancel()
	select {
	case err := <-done:
		fmt.Println("node stopped:", err == nil || err == context.Canceled)
	case <-time.After(60 * time.Second):
		fmt.Println("node did not stop")
		os.Exit(1)
	}
}
