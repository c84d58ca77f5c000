// Command devnet runs a single-validator XairrosX chain (CometBFT consensus,
// IAVL state on goleveldb) inside the program: it initializes a home in
// /tmp, starts the node, waits for a few committed blocks through the
// node's RPC on loopback, and stops. It prints only what is the same on
// every run.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/node"
)

func height() (int64, error) {
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
	home, err := os.MkdirTemp("", "devnet-")
	if err != nil {
		fmt.Println("mkdir:", err)
		os.Exit(1)
	}
	_, err = node.Init(home, node.Options{ChainID: "devnet", Moniker: "guest", Loopback: true, Fast: true, BlockPause: 50 * time.Millisecond, Settings: node.DefaultSettings()}, "", 1_000_000)
	fmt.Println("init:", err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- node.Run(ctx, home, infer.RunInt8, func(m []byte) error { _, err := infer.Inspect(m); return err }, io.Discard)
	}()
	deadline := time.Now().Add(90 * time.Second)
	var h int64
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			fmt.Println("node stopped early:", err)
			os.Exit(1)
		default:
		}
		if h, err = height(); err == nil && h >= 5 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Println("committed at least 5 blocks:", h >= 5)
	cancel()
	select {
	case err := <-done:
		fmt.Println("node stopped:", err == nil || err == context.Canceled)
	case <-time.After(30 * time.Second):
		fmt.Println("node did not stop")
	}
}
