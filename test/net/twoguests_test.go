package net_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/cmdline"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// TestTwoGuestsOverSocketNetwork connects two guests with a QEMU socket
// network (a virtual Ethernet carried over a loopback TCP connection
// between the two QEMUs: no root, no bridge) and exchanges 64 KiB over TCP
// between them, each with a static address from the kernel options; first
// the client pings the server (ICMP echo, answered by the server's stack).
func TestTwoGuestsOverSocketNetwork(t *testing.T) {
	img := buildImage(t, "test/net/testdata/peer", "")
	port := freePort(t)
	type end struct {
		out qemu.Output
		res qemu.Result
		err error
	}
	boot := func(e *end, netdev, mac, ip string, args []string, done chan<- struct{}) {
		line, err := cmdline.Build(map[string]string{"argv0": "peer", "ip": ip}, nil, args)
		if err != nil {
			e.err = err
			close(done)
			return
		}
		e.res, e.err = qemu.Run(context.Background(), qemu.Config{
			Image: img, Machine: "q35", Mem: 256 << 20, Cmdline: line, Timeout: 120 * time.Second, Stdout: &e.out,
			Extra: []string{"-netdev", netdev, "-device", "virtio-net-pci,netdev=n0,mac=" + mac},
		})
		close(done)
	}
	var server, client end
	sdone, cdone := make(chan struct{}), make(chan struct{})
	go boot(&server, fmt.Sprintf("socket,id=n0,listen=127.0.0.1:%d", port), "52:54:00:00:07:01", "10.7.0.1/24", []string{"serve"}, sdone)
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(server.out.String(), "listening") {
		select {
		case <-sdone:
			t.Fatalf("server guest ended: %v\n%s", server.err, server.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never listened:\n%s", server.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	go boot(&client, fmt.Sprintf("socket,id=n0,connect=127.0.0.1:%d", port), "52:54:00:00:07:02", "10.7.0.2/24", []string{"dial", "10.7.0.1:9000"}, cdone)
	<-cdone
	<-sdone
	if client.err != nil || client.res.Status != 0 || !strings.Contains(client.out.String(), "received 65529 bytes, matches true error <nil>") ||
		!strings.Contains(client.out.String(), "ping 10.7.0.1: 3 of 3 echo replies") {
		t.Errorf("client: %v status %d:\n%s", client.err, client.res.Status, client.out.String())
	}
	if server.err != nil || server.res.Status != 0 || !strings.Contains(server.out.String(), "echoed 65529 bytes, error <nil>") {
		t.Errorf("server: %v status %d:\n%s", server.err, server.res.Status, server.out.String())
	}
}
