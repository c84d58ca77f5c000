// Command virtionet reaches a server on the host through a virtio-net NIC
// on QEMU's user network, which the network service configures by DHCP at
// the first socket call (no xairrosx.ip option: the guest gets 10.0.2.15,
// the host's loopback is 10.0.2.2): it makes an HTTP GET and a TCP echo
// exchange, prints the results and the /etc/resolv.conf the lease wrote.
// Usage: virtionet HTTP-PORT ECHO-PORT. It runs only on XairrosX.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Println("usage: virtionet HTTP-PORT ECHO-PORT")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get("http://10.0.2.2:" + os.Args[1] + "/hello")
	if err != nil {
		fmt.Println("http:", err)
		os.Exit(1)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("http: %s %q %v\n", resp.Status, body, err)
	c, err := net.DialTimeout("tcp", "10.0.2.2:"+os.Args[2], 30*time.Second)
	if err != nil {
		fmt.Println("echo:", err)
		os.Exit(1)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := bytes.Repeat([]byte("virtio-net "), 20000) // 220 kB: many full frames
	go c.Write(msg)
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	fmt.Printf("echo: %d bytes through the NIC, intact %v, err %v, local %s\n", len(msg), bytes.Equal(got, msg), err, c.LocalAddr().(*net.TCPAddr).IP)
	rc, err := os.ReadFile("/etc/resolv.conf")
	fmt.Printf("resolv.conf: %q %v\n", rc, err)
}
