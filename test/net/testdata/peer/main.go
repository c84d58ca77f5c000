// Command peer is one end of a TCP exchange between two guests on one
// virtual Ethernet: "peer serve" echoes one connection on port 9000 back
// upper-cased; "peer dial ADDR" sends 64 KiB and checks the echo.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"time"
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
