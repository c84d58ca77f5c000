// Command loopback exercises Go's net package over the loopback interface:
// a net/http server and client, a TCP echo with many concurrent
// connections, UDP send and receive, IPv6, and the errors Go's callers
// rely on. It prints only what does not depend on the machine (no port
// numbers), so its output on Linux and on XairrosX must be identical.
//
// With -bench N it instead makes N sequential HTTP requests to itself and
// prints requests per second (the figure docs/net.md reports).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The network service is not imported here: xairrosx build adds it to every
// program that uses package net.

func main() {
	bench := flag.Int("bench", 0, "make this many HTTP requests and print requests/s")
	flag.Parse()
	if *bench > 0 {
		benchHTTP(*bench)
		return
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"http", httpRoundTrips},
		{"tcp echo", tcpEcho},
		{"udp", udp},
		{"ipv6", ipv6},
		{"errors", dialErrors},
	}
	failed := false
	for _, s := range steps {
		if err := s.f(); err != nil {
			fmt.Printf("%s: FAIL: %v\n", s.name, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// httpServer starts a server on 127.0.0.1 with a few handlers.
func httpServer() (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.URL.Query().Get("name"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("xairrosx "), 100000))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

// body reads and closes a response's body.
func body(resp *http.Response, err error) (string, []byte, error) {
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Status, b, err
}

func httpRoundTrips() error {
	srv, base, err := httpServer()
	if err != nil {
		return err
	}
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < 3; i++ {
		status, body, err := body(client.Get(fmt.Sprintf("%s/hello?name=guest%d", base, i)))
		if err != nil {
			return err
		}
		fmt.Printf("http: GET /hello -> %s %q\n", status, body)
	}
	payload := bytes.Repeat([]byte("0123456789"), 50000)
	status, body, err := body(client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(payload)))
	if err != nil {
		return err
	}
	fmt.Printf("http: POST /echo %d bytes -> %s, echoed intact: %v\n", len(payload), status, bytes.Equal(body, payload))
	// Concurrent requests over several keep-alive connections.
	var wg sync.WaitGroup
	sizes := make([]int, 16)
	errs := make([]error, 16)
	for i := range sizes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(base + "/big")
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			sizes[i], errs[i] = len(b), err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	sort.Ints(sizes)
	fmt.Printf("http: 16 concurrent GET /big -> sizes %d..%d\n", sizes[0], sizes[len(sizes)-1])
	client.CloseIdleConnections()
	return nil
}

func tcpEcho() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	var serverErr error
	var serverMu sync.Mutex
	fail := func(err error) {
		serverMu.Lock()
		serverErr = errors.Join(serverErr, err)
		serverMu.Unlock()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					fail(fmt.Errorf("accept: %w", err))
				}
				return
			}
			go func() {
				defer c.Close()
				// A plain read/write loop: io.Copy between two TCP
				// connections would use splice(2), which XairrosX does
				// not serve yet (docs/net.md).
				if err := echo(c); err != nil {
					fail(fmt.Errorf("server copy: %w", err))
				}
			}()
		}
	}()
	// 24 connections are 48 descriptors in Go's epoll set: the kernel's
	// epoll instances watch at most 64 (kernel/fd.go maxWatch).
	const conns = 24
	var wg sync.WaitGroup
	errs := make([]error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			msg := bytes.Repeat([]byte{byte(i)}, 4096+i*100)
			go c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				errs[i] = fmt.Errorf("connection %d: %w", i, err)
				return
			}
			if !bytes.Equal(got, msg) {
				errs[i] = fmt.Errorf("connection %d: echo differs", i)
			}
			if c.RemoteAddr().String() != ln.Addr().String() {
				errs[i] = fmt.Errorf("connection %d: remote address %v, want %v", i, c.RemoteAddr(), ln.Addr())
			}
		}()
	}
	wg.Wait()
	serverMu.Lock()
	defer serverMu.Unlock()
	if err := errors.Join(append(errs, serverErr)...); err != nil {
		return err
	}
	fmt.Printf("tcp echo: %d concurrent connections echoed their bytes\n", conns)
	return nil
}

func udp() error {
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer b.Close()
	b.SetReadDeadline(time.Now().Add(20 * time.Second))
	var got []string
	for i := 0; i < 10; i++ {
		if _, err := a.WriteToUDP([]byte(fmt.Sprintf("datagram %d", i)), b.LocalAddr().(*net.UDPAddr)); err != nil {
			return err
		}
		buf := make([]byte, 100)
		n, from, err := b.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		if from.String() != a.LocalAddr().String() {
			return fmt.Errorf("datagram from %v, want %v", from, a.LocalAddr())
		}
		got = append(got, string(buf[:n]))
	}
	fmt.Printf("udp: received %d datagrams in order: %s ... %s\n", len(got), got[0], got[9])
	// Connected UDP sockets through net.Dial, and WriteMsgUDP/ReadMsgUDP
	// (sendmsg/recvmsg).
	c, err := net.Dial("udp", b.LocalAddr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	c.Write([]byte("connected"))
	buf := make([]byte, 100)
	n, from, err := b.ReadFromUDP(buf)
	if err != nil {
		return err
	}
	if _, _, err := b.WriteMsgUDP([]byte("reply via sendmsg"), nil, from); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	m, err := c.Read(buf[n:])
	if err != nil {
		return err
	}
	fmt.Printf("udp: dialed %q, answered %q\n", buf[:n], buf[n:n+m])
	return nil
}

// serveOnce accepts one connection on ln, writes what reply returns and
// closes it; the caller dials network and reads everything back.
func serveOnce(ln net.Listener, network string, reply func(net.Conn) string) (string, net.Conn, error) {
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, reply(c))
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	host := "127.0.0.1"
	if network == "tcp6" {
		host = "::1"
	}
	c, err := net.Dial(network, net.JoinHostPort(host, port))
	if err != nil {
		return "", nil, err
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	return string(b), c, err
}

func ipv6() error {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	b, c, err := serveOnce(ln, "tcp6", func(net.Conn) string {
		return fmt.Sprintf("hello from %s", ln.Addr().(*net.TCPAddr).IP)
	})
	if err != nil {
		return err
	}
	fmt.Printf("ipv6: %s, remote %s\n", b, c.RemoteAddr().(*net.TCPAddr).IP)
	// A dual-stack listener (tcp on all addresses) reached over IPv4.
	dual, err := net.Listen("tcp", ":0")
	if err != nil {
		return err
	}
	defer dual.Close()
	b, _, err = serveOnce(dual, "tcp4", func(c net.Conn) string {
		return fmt.Sprintf("peer %s", c.RemoteAddr().(*net.TCPAddr).IP)
	})
	if err != nil {
		return err
	}
	fmt.Printf("ipv6: dual-stack listener on %s reached over IPv4: %s\n", strings.Split(dual.Addr().String(), "]")[0]+"]", b)
	return nil
}

func dialErrors() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = net.DialTimeout("tcp", addr, 20*time.Second)
	fmt.Printf("errors: dial a closed port: connection refused: %v\n", errors.Is(err, syscall.ECONNREFUSED))
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	_, err = net.Listen("tcp", ln.Addr().String())
	fmt.Printf("errors: listen on a port in use: address in use: %v\n", errors.Is(err, syscall.EADDRINUSE))
	return nil
}

func benchHTTP(n int) {
	srv, base, err := httpServer()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer srv.Close()
	client := &http.Client{}
	get := func() {
		resp, err := client.Get(base + "/hello?name=bench")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get() // connect outside the timed part
	start := time.Now()
	for i := 0; i < n; i++ {
		get()
	}
	d := time.Since(start)
	fmt.Printf("http loopback: %d requests in %v: %.0f requests/s\n", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
}

// echo writes back what it reads from c until end of stream.
func echo(c net.Conn) error {
	buf := make([]byte, 8192)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
