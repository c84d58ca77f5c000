// Command peer is one end of a TCP exchange between two guests on one
// virtual Ethernet: "peer serve" echoes one connection on port 9000 back
// upper-cased; "peer dial ADDR" pings ADDR's host (ICMP echo through a ping
// socket), then sends 64 KiB and checks the echo.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: peer serve | peer dial ADDR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		ln, err := net.Listen("tcp", ":9000")
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		fmt.Println("listening")
		c, err := ln.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			os.Exit(1)
		}
		n, err := io.Copy(c, upper{c})
		fmt.Println("echoed", n, "bytes, error", err)
		c.Close()
		// Give the stack time to send the FIN before the machine stops.
		time.Sleep(2 * time.Second)
	case "dial":
		host, _, _ := net.SplitHostPort(os.Args[2])
		ping(host, 3)
		var c net.Conn
		var err error
		for i := 0; i < 100; i++ {
			if c, err = net.DialTimeout("tcp", os.Args[2], 2*time.Second); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		msg := bytes.Repeat([]byte("xairrosx "), 64<<10/9)
		go func() {
			c.Write(msg)
			c.(*net.TCPConn).CloseWrite()
		}()
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		got, err := io.ReadAll(c)
		fmt.Println("received", len(got), "bytes, matches", bytes.Equal(got, bytes.ToUpper(msg)), "error", err)
	}
}

// upper reads upper-cased bytes from r.
type upper struct{ r io.Reader }

func (u upper) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	copy(p[:n], bytes.ToUpper(p[:n]))
	return n, err
}

// ping sends n ICMP echo requests to host through a ping socket (SOCK_DGRAM,
// IPPROTO_ICMP) and prints how many matching replies came back.
func ping(host string, n int) {
	c, err := icmp.ListenPacket("udp4", "0.0.0.0")
	if err != nil {
		fmt.Println("ping:", err)
		return
	}
	defer c.Close()
	dst := &net.UDPAddr{IP: net.ParseIP(host)}
	replies := 0
	for seq := 1; seq <= n; seq++ {
		payload := []byte(fmt.Sprintf("xairrosx ping %d", seq))
		req, _ := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{Seq: seq, Data: payload}}).Marshal(nil)
		if _, err := c.WriteTo(req, dst); err != nil {
			fmt.Println("ping write:", err)
			return
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1500)
		for {
			k, from, err := c.ReadFrom(buf)
			if err != nil {
				fmt.Println("ping read:", err)
				break
			}
			m, err := icmp.ParseMessage(1, buf[:k])
			if e, ok := m.Body.(*icmp.Echo); err == nil && ok && m.Type == ipv4.ICMPTypeEchoReply && e.Seq == seq && bytes.Equal(e.Data, payload) {
				if from.(*net.UDPAddr).IP.String() == host {
					replies++
				}
				break
			}
		}
	}
	fmt.Printf("ping %s: %d of %d echo replies\n", host, replies, n)
}
