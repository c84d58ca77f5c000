package link_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/xairrosx/xairrosx/net/link"
	"github.com/xairrosx/xairrosx/net/stack"
)

// wireDev is one end of a simulated Ethernet cable: frames it transmits
// arrive, in order, at the peer endpoint's Deliver.
type wireDev struct {
	mac  net.HardwareAddr
	out  chan []byte
	fail atomic.Bool

	mu    sync.Mutex
	types []uint16 // EtherTypes of the frames sent
}

func (d *wireDev) MAC() net.HardwareAddr { return d.mac }
func (d *wireDev) MTU() int              { return 1500 }

func (d *wireDev) Transmit(frame []byte) error {
	if d.fail.Load() {
		return errors.New("device refused the frame")
	}
	if len(frame) > 1514 {
		return errors.New("frame larger than the MTU")
	}
	d.mu.Lock()
	d.types = append(d.types, binary.BigEndian.Uint16(frame[12:]))
	d.mu.Unlock()
	d.out <- append([]byte(nil), frame...)
	return nil
}

// cable connects two stacks on 10.0.0.0/24 and returns them with their
// devices and endpoints.
func cable(t *testing.T) (a, b *stack.Stack, da *wireDev, ea, eb *link.Endpoint) {
	t.Helper()
	da = &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, 1}, out: make(chan []byte, 1024)}
	db := &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, 2}, out: make(chan []byte, 1024)}
	ea, eb = link.New(da), link.New(db)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	pump := func(d *wireDev, to *link.Endpoint) {
		for {
			select {
			case f := <-d.out:
				to.Deliver(f)
			case <-done:
				return
			}
		}
	}
	go pump(da, eb)
	go pump(db, ea)
	mk := func(ep *link.Endpoint, ip byte) *stack.Stack {
		s, err := stack.New()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		addr := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{10, 0, 0, ip}), PrefixLen: 24}
		if _, err := s.AddNIC(stack.NIC{Link: ep, Addr: addr, Gateway: tcpip.AddrFrom4([4]byte{10, 0, 0, 254})}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	return mk(ea, 1), mk(eb, 2), da, ea, eb
}

func TestTCPOverEthernet(t *testing.T) {
	a, b, da, ea, _ := cable(t)
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), Port: 80}
	ln, err := gonet.ListenTCP(b.Stack, to, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// 200 kB each way: many full-size frames, segmented and reassembled.
	payload := bytes.Repeat([]byte("ethernet "), 200000/9)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		got := make([]byte, len(payload))
		if _, err := io.ReadFull(c, got); err != nil {
			return
		}
		c.Write(got)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, a.Stack, to, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write(payload)
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("payload corrupted crossing the link")
	}
	da.mu.Lock()
	first := da.types[0]
	da.mu.Unlock()
	if first != 0x0806 {
		t.Errorf("first frame has EtherType %#04x, want ARP (0x0806)", first)
	}
	if rx, tx, _, _ := ea.Stats(); rx < 20 || tx < 100 {
		t.Errorf("endpoint counted %d frames in, %d out; want many", rx, tx)
	}
}

func TestUDPOverEthernet(t *testing.T) {
	a, b, _, _, _ := cable(t)
	bAddr := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), Port: 53}
	pc, err := gonet.DialUDP(b.Stack, &bAddr, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := gonet.DialUDP(a.Stack, nil, &bAddr, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("query")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "query" || from.(*net.UDPAddr).IP.String() != "10.0.0.1" {
		t.Errorf("got %q from %v", buf[:n], from)
	}
}

func TestBadFramesAndDeviceErrors(t *testing.T) {
	a, _, da, ea, _ := cable(t)
	ea.Deliver([]byte{1, 2, 3})
	ea.Deliver(nil)
	// A frame for an unknown EtherType is consumed without effect.
	ea.Deliver(append(make([]byte, 12), 0x88, 0xb5, 1, 2, 3))
	if _, _, dropped, _ := ea.Stats(); dropped != 2 {
		t.Errorf("%d short frames dropped, want 2", dropped)
	}
	da.fail.Store(true)
	c, err := gonet.DialUDP(a.Stack, nil, &tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), Port: 9}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("lost"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, _, txErr := ea.Stats(); txErr > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a device transmit error was not counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The default route through the gateway is in place.
	found := false
	for _, r := range a.GetRouteTable() {
		if r.Gateway == tcpip.AddrFrom4([4]byte{10, 0, 0, 254}) && r.Destination.Prefix() == 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("no default route through 10.0.0.254: %v", a.GetRouteTable())
	}
}
