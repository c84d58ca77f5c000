// Command validator runs validator N of a 4-node chain whose homes are
// packed into the image under /homes/nodeN (xairrosx build -files): it
// copies its home to /tmp (the packed root is read-only), starts the node,
// waits for height 6, prints the app hash of block 3 (which every validator
// must agree on), keeps validating a little longer for the others, and
// stops.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/chain/node"
)

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}

func rpc(path string, v any) error {
	resp, err := http.Get("http://127.0.0.1:26657" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func main() {
	n := os.Args[1]
	home := "/tmp/home"
	if err := copyTree("/homes/node"+n, home); err != nil {
		fmt.Println("copy home:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- node.Run(ctx, home, infer.RunInt8, func(m []byte) error { _, err := infer.Inspect(m); return err }, io.Discard)
	}()
	deadline := time.Now().Add(150 * time.Second)
	for {
		var st struct {
			Result struct {
				SyncInfo struct {
					H string `json:"latest_block_height"`
				} `json:"sync_info"`
			} `json:"result"`
		}
		if rpc("/status", &st) == nil {
			if h, _ := strconv.Atoi(st.Result.SyncInfo.H); h >= 6 {
				break
			}
		}
		select {
		case err := <-done:
			fmt.Println("node stopped early:", err)
			os.Exit(1)
		default:
		}
		if time.Now().After(deadline) {
			fmt.Println("no height 6 in time")
			os.Exit(1)
		}
		time.Sleep(300 * time.Millisecond)
	}
	var blk struct {
		Result struct {
			Block struct {
				Header struct {
					AppHash string `json:"app_hash"`
				} `json:"header"`
			} `json:"block"`
		} `json:"result"`
	}
	err := rpc("/block?height=3", &blk)
	fmt.Println("height 6 reached; app hash of block 3:", blk.Result.Block.Header.AppHash, err)
	time.Sleep(15 * time.Second) // keep voting while the others catch up
	cancel()
	<-done
}
