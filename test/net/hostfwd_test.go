package net_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/cmdline"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// TestHostReachesGuestServer boots an HTTP server in a guest whose NIC is on
// QEMU's user network (the network service configures it by DHCP before
// main runs: xairrosx.ip=dhcp, as `xairrosx run -net user` sets it) and
// reaches it from the host through a port forward.
func TestHostReachesGuestServer(t *testing.T) {
	img := buildImage(t, "test/net/testdata/server", "")
	port := freePort(t)
	extra, opts, err := qemu.UserNetwork("q35", []string{fmt.Sprintf("tcp:%d:8080", port)})
	if err != nil {
		t.Fatal(err)
	}
	opts["argv0"] = "server"
	line, err := cmdline.Build(opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out qemu.Output
	type result struct {
		res qemu.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := qemu.Run(context.Background(), qemu.Config{Image: img, Machine: "q35", Mem: 256 << 20, Cmdline: line, Timeout: 120 * time.Second, Stdout: &out, Extra: extra})
		done <- result{res, err}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "listening") {
		if time.Now().After(deadline) {
			t.Fatalf("the guest never listened:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(path, body string) string {
		var resp *http.Response
		var err error
		// The forward may need a moment after the guest listens.
		for i := 0; i < 50; i++ {
			resp, err = client.Post(fmt.Sprintf("http://127.0.0.1:%d%s", port, path), "text/plain", strings.NewReader(body))
			if err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v\nguest:\n%s", path, err, out.String())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got, want := get("/hello", "0123456789"), "hello from XairrosX, you sent 10 bytes\n"; got != want {
		t.Errorf("/hello = %q, want %q", got, want)
	}
	if got := get("/stop", ""); got != "stopping\n" {
		t.Errorf("/stop = %q", got)
	}
	r := <-done
	if r.err != nil || r.res.Status != 0 || !strings.Contains(out.String(), "served") {
		t.Errorf("guest ended with %v, status %d:\n%s", r.err, r.res.Status, out.String())
	}
	// The lease and /etc/resolv.conf were there before main ran, and Go's
	// resolver asked the DNS server of the lease.
	const lease = "netsvc: DHCP 10.0.2.15/24 gw 10.0.2.2 dns 10.0.2.3 lease 86400s\nresolv.conf before main: nameserver 10.0.2.3\ndns: asked 10.0.2.3:53\nlistening\n"
	if !strings.Contains(out.String(), lease) {
		t.Errorf("guest output lacks %q:\n%s", lease, out.String())
	}
}
