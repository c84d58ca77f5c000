// Command server serves HTTP on port 8080 until it has answered one request
// to /stop, for the test that reaches it from the host through QEMU's user
// network and a port forward. It first prints the name servers in
// /etc/resolv.conf and which one Go's resolver asked for a name.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	// With xairrosx.ip=dhcp the network service has the lease before
	// main runs, and has written the DNS servers for Go's resolver.
	rc, err := os.ReadFile("/etc/resolv.conf")
	for _, l := range strings.Split(string(rc), "\n") {
		if strings.HasPrefix(l, "nameserver ") {
			fmt.Println("resolv.conf before main:", l)
		}
	}
	if err != nil {
		fmt.Println("resolv.conf before main:", err)
	}
	// Go's resolver asks the server resolv.conf names (QEMU's forwarder,
	// which may or may not reach a real DNS server from the host).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	addrs, err := net.DefaultResolver.LookupHost(ctx, "xairrosx-dhcp-test.example")
	cancel()
	var de *net.DNSError
	if errors.As(err, &de) {
		fmt.Println("dns: asked", de.Server)
	} else {
		fmt.Println("dns:", addrs, err)
	}
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Println("listening")
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from XairrosX, you sent %d bytes\n", r.ContentLength)
	})
	mux.HandleFunc("/stop", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "stopping")
		close(done)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	<-done
	// Let the /stop response go out before exiting: the handler goroutine
	// may still be writing it.
	srv.Shutdown(context.Background())
	fmt.Println("served")
}
