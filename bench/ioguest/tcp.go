package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/xairrosx/xairrosx/internal/qemu"
)

// Static addresses of the two guests on their socket network, the same for
// both OSes.
const (
	tcpServerAddr = "10.7.0.1/24"
	tcpClientAddr = "10.7.0.2/24"
	tcpServerIP   = "10.7.0.1"
)

// tcpBench boots a receiver of OS recv and a sender of OS s joined by a
// QEMU socket network (one QEMU listens on a loopback port, the other
// connects: a virtual Ethernet cable), and has the sender send mib MiB to
// the receiver. Key: tcp-MBps, measured by the sender from the connection
// to the receiver's count.
func tcpBench(recv, s *side, mib int) (map[string]float64, error) {
	port, err := qemu.FreePort()
	if err != nil {
		return nil, err
	}
	nic := func(netdev, mac string) []string {
		return []string{"-netdev", netdev, "-device", "virtio-net-pci,netdev=n0,mac=" + mac}
	}
	timeout := 3*time.Minute + time.Duration(mib)*time.Second
	srv, err := start(recv, map[string]string{"ip": tcpServerAddr}, []string{"tcp-recv"},
		nic(fmt.Sprintf("socket,id=n0,listen=127.0.0.1:%d", port), "52:54:00:00:07:01"), timeout)
	if err != nil {
		return nil, err
	}
	if err := srv.waitFor("listening", 2*time.Minute); err != nil {
		srv.kill()
		return nil, err
	}
	cli, err := start(s, map[string]string{"ip": tcpClientAddr}, []string{"tcp-send", tcpServerIP + ":9000", strconv.Itoa(mib)},
		nic(fmt.Sprintf("socket,id=n0,connect=127.0.0.1:%d", port), "52:54:00:00:07:02"), timeout)
	if err != nil {
		srv.kill()
		return nil, err
	}
	vals, _, cerr := cli.wait()
	if cerr != nil {
		srv.kill()
		return nil, fmt.Errorf("sender: %v", cerr)
	}
	if _, _, err := srv.wait(); err != nil {
		return nil, fmt.Errorf("receiver: %v", err)
	}
	if _, ok := vals["tcp-MBps"]; !ok {
		return nil, fmt.Errorf("%s sender printed no result", s.name)
	}
	return vals, nil
}
