package net_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/chain/node"
	"github.com/xairrosx/xairrosx/internal/cmdline"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// hub is a virtual Ethernet hub for QEMU socket netdevs: QEMUs connect to
// it over loopback TCP and each frame (4-byte big-endian length, then the
// frame) is repeated to every other connection.
type hub struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (h *hub) serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
		go h.relay(c)
	}
}

func (h *hub) relay(c net.Conn) {
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		frame := make([]byte, 4+binary.BigEndian.Uint32(hdr[:]))
		copy(frame, hdr[:])
		if _, err := io.ReadFull(c, frame[4:]); err != nil {
			return
		}
		h.mu.Lock()
		for _, o := range h.conns {
			if o != c {
				o.Write(frame)
			}
		}
		h.mu.Unlock()
	}
}

// TestFourValidatorGuests runs a 4-validator chain as four XairrosX guests
// on one virtual Ethernet (QEMU socket netdevs joined by a hub on the
// host's loopback): CometBFT's P2P between guests, consensus, and the same
// app hash on every validator.
func TestFourValidatorGuests(t *testing.T) {
	dir := t.TempDir()
	const base = 36000
	homes, err := node.Testnet(filepath.Join(dir, "homes"), 4, node.Options{ChainID: "guestnet", Fast: true, BlockPause: 200 * time.Millisecond, Settings: node.DefaultSettings()}, base, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	// Each validator listens on its own address on the virtual network.
	for i, h := range homes {
		p := filepath.Join(h.Dir, "config", "config.toml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for j := range homes {
			s = strings.ReplaceAll(s, fmt.Sprintf("127.0.0.1:%d", base+10*j), fmt.Sprintf("10.9.0.%d:26656", j+1))
		}
		s = strings.ReplaceAll(s, fmt.Sprintf("tcp://10.9.0.%d:26656", i+1), "tcp://0.0.0.0:26656")
		s = strings.ReplaceAll(s, fmt.Sprintf("127.0.0.1:%d", base+10*i+1), "127.0.0.1:26657")
		s = strings.ReplaceAll(s, "addr_book_strict = true", "addr_book_strict = false")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	img := buildImage(t, "test/net/testdata/validator", dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go (&hub{}).serve(l)
	outs := make([]qemu.Output, 4)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			line, _ := cmdline.Build(map[string]string{"argv0": "validator", "ip": fmt.Sprintf("10.9.0.%d/24", i+1)}, nil, []string{fmt.Sprint(i)})
			res, err := qemu.Run(context.Background(), qemu.Config{
				Image: img, Machine: "q35", Mem: 768 << 20, Cmdline: line, Timeout: 240 * time.Second, Stdout: &outs[i],
				Extra: []string{"-netdev", "socket,id=n0,connect=" + l.Addr().String(), "-device", fmt.Sprintf("virtio-net-pci,netdev=n0,mac=52:54:00:00:09:%02x", i+1)},
			})
			if err != nil || res.Status != 0 {
				t.Errorf("validator %d: %v, status %d:\n%s", i, err, res.Status, outs[i].String())
			}
		}(i)
	}
	wg.Wait()
	var hashes []string
	for i := range outs {
		out := outs[i].String()
		k := strings.Index(out, "app hash of block 3: ")
		if k < 0 {
			t.Fatalf("validator %d printed no app hash:\n%s", i, out)
		}
		hashes = append(hashes, strings.Fields(out[k+len("app hash of block 3: "):])[0])
	}
	for i := range hashes {
		if hashes[i] != hashes[0] || len(hashes[i]) != 64 {
			t.Errorf("app hashes differ or are empty: %q", hashes)
			break
		}
	}
}
