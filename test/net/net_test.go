// Package net_test boots XairrosX guests that use Go's net package over the
// network service (services/netsvc: gVisor's TCP/IP stack on loopback) and
// compares what they print with the same programs run natively.
package net_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
	"github.com/xairrosx/xairrosx/internal/qemu"
)

// guest builds the program pkg (relative to the repository root) into an
// image, boots it with extra QEMU arguments and the program's args and returns what it printed and its status.
func guest(t testing.TB, root, pkg string, extra []string, args ...string) (string, int) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "net.img")
	if _, err := image.Build(image.Options{Pkg: filepath.Join(root, pkg), Out: img, Root: root}); err != nil {
		t.Fatal(err)
	}
	cmdline := "xairrosx.argv0=" + filepath.Base(pkg) + " --"
	for _, a := range args {
		cmdline += " " + a
	}
	var out bytes.Buffer
	res, err := qemu.Run(context.Background(), qemu.Config{
		Image:   img,
		Mem:     512 << 20,
		Cmdline: cmdline,
		Timeout: 90 * time.Second,
		Stdout:  &out,
		Stderr:  os.Stderr,
		Extra:   extra,
	})
	if err != nil {
		t.Fatalf("qemu: %v\n%s", err, out.String())
	}
	return out.String(), res.Status
}

// TestLoopbackMatchesHost runs HTTP, a concurrent TCP echo, UDP, IPv6 and
// error cases over loopback in one guest and natively, and requires the
// same output.
func TestLoopbackMatchesHost(t *testing.T) {
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	const pkg = "test/net/testdata/loopback"
	native, err := exec.Command("go", "run", filepath.Join(root, pkg)).CombinedOutput()
	if err != nil {
		t.Fatalf("native run: %v\n%s", err, native)
	}
	out, status := guest(t, root, pkg, nil)
	if status != 0 {
		t.Fatalf("guest status %d:\n%s", status, out)
	}
	if out != string(native) {
		t.Errorf("guest and host differ:\n--- host\n%s--- guest\n%s", native, out)
	}
}

// BenchmarkHTTPLoopback boots a guest that makes sequential net/http
// requests to itself over 127.0.0.1 and reports its requests per second
// (the figure in docs/net.md). Each iteration is one guest boot.
func BenchmarkHTTPLoopback(b *testing.B) {
	root, err := image.FindRoot()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		out, status := guest(b, root, "test/net/testdata/loopback", nil, "-bench", "500")
		var n int
		var d string
		var rps float64
		if _, err := fmt.Sscanf(out, "http loopback: %d requests in %s %f requests/s", &n, &d, &rps); err != nil || status != 0 {
			b.Fatalf("status %d, output %q: %v", status, out, err)
		}
		b.ReportMetric(rps, "req/s")
	}
}

// TestVirtioNetToHost boots a guest with a virtio-net NIC on QEMU's user
// network and no address option: the network service gets 10.0.2.15 from
// QEMU's DHCP server (net/dhcp) at the first socket call, and through the
// NIC (driver, net/link, gVisor, slirp) the guest reaches an HTTP server
// and a TCP echo server on the host's loopback.
func TestVirtioNetToHost(t *testing.T) {
	root, err := image.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from the host", r.URL.Path)
	})}
	go srv.Serve(httpLn)
	defer srv.Close()
	echoLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echoLn.Close()
	go func() {
		for {
			c, err := echoLn.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	port := func(l net.Listener) string { return fmt.Sprint(l.Addr().(*net.TCPAddr).Port) }
	out, status := guest(t, root, "test/net/testdata/virtionet", []string{
		"-device", "virtio-net-pci,netdev=n0", "-netdev", "user,id=n0",
	}, port(httpLn), port(echoLn))
	want := "netsvc: DHCP 10.0.2.15/24 gw 10.0.2.2 dns 10.0.2.3 lease 86400s\n" +
		"http: 200 OK \"hello /hello from the host\" <nil>\n" +
		"echo: 220000 bytes through the NIC, intact true, err <nil>, local 10.0.2.15\n" +
		"resolv.conf: \"# From the DHCP lease of 10.0.2.15/24 (XairrosX network service).\\nnameserver 10.0.2.3\\n\" <nil>\n"
	if status != 0 || out != want {
		t.Errorf("guest status %d, printed:\n%s\nwant:\n%s", status, out, want)
	}
}

// TestDHCPNoServer boots a guest that asks for DHCP (xairrosx.ip=dhcp) on
// a virtual Ethernet where no server answers: the network service reports
// it after its 10 s bound, main runs, and the NIC is up without an
// address, so connections through it are unreachable.
func TestDHCPNoServer(t *testing.T) {
	img := buildImage(t, "test/net/testdata/nolease", "")
	// A socket netdev that listens and never gets a peer: a cable to nowhere.
	var out bytes.Buffer
	res, err := qemu.Run(context.Background(), qemu.Config{
		Image: img, Machine: "q35", Mem: 256 << 20, Cmdline: "xairrosx.argv0=nolease xairrosx.ip=dhcp --",
		Timeout: 90 * time.Second, Stdout: &out, Stderr: os.Stderr,
		Extra: []string{"-netdev", fmt.Sprintf("socket,id=n0,listen=127.0.0.1:%d", freePort(t)), "-device", "virtio-net-pci,netdev=n0"},
	})
	if err != nil || res.Status != 0 {
		t.Fatalf("guest: %v, status %d:\n%s", err, res.Status, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"netsvc: DHCP: no lease within 10s (dhcp: no server answered: context deadline exceeded); the NIC 52:54:00:12:34:56 is up without an address, still trying\n",
		"lease: \"invalid Prefix\"\n",
		"dial: dial tcp 10.0.2.2:80: connect: network is unreachable\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("guest output lacks %q:\n%s", want, got)
		}
	}
}
