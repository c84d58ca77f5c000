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

// stagerDev is a wireDev that also takes frames in parts (link.Stager):
// staged frames go on the wire at Kick.
type stagerDev struct {
	*wireDev
	batches chan [][]byte
	staged  [][]byte
	kicks   atomic.Int64
	stagedN atomic.Int64
}

func (d *stagerDev) Stage(parts ...[]byte) error {
	var f []byte
	for _, p := range parts {
		f = append(f, p...)
	}
	if len(f) > 1514 {
		return errors.New("frame larger than the MTU")
	}
	d.staged = append(d.staged, f) // only the transmit goroutine stages
	d.stagedN.Add(1)
	return nil
}

// Kick puts the staged frames on the wire as one batch.
func (d *stagerDev) Kick() {
	if len(d.staged) > 0 {
		d.batches <- d.staged
	}
	d.staged = nil
	d.kicks.Add(1)
}

// cable connects two stacks on 10.0.0.0/24 and returns them with their
// devices and endpoints. Frames are delivered one at a time.
func cable(t *testing.T) (a, b *stack.Stack, da *wireDev, ea, eb *link.Endpoint) {
	t.Helper()
	da = &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, 1}, out: make(chan []byte, 1024)}
	db := &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, 2}, out: make(chan []byte, 1024)}
	ea, eb = link.New(da), link.New(db)
	a, b = connect(t, da.out, db.out, nil, nil, ea, eb)
	return a, b, da, ea, eb
}

// connect pumps the frames sent on outA (one at a time) and batchA (a
// batch at a time, with Enqueue and Flush) to eb, and those of outB and
// batchB to ea, and makes a stack over each endpoint.
func connect(t *testing.T, outA, outB chan []byte, batchA, batchB chan [][]byte, ea, eb *link.Endpoint) (a, b *stack.Stack) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	pump := func(out chan []byte, batches chan [][]byte, to *link.Endpoint) {
		for {
			select {
			case f := <-out:
				to.Deliver(f)
			case fs := <-batches:
				for _, f := range fs {
					to.Enqueue(f)
				}
				to.Flush()
			case <-done:
				return
			}
		}
	}
	go pump(outA, batchA, eb)
	go pump(outB, batchB, ea)
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
	return mk(ea, 1), mk(eb, 2)
}

// transfer sends n bytes from a to b (10.0.0.2) over TCP and checks that
// they arrive.
func transfer(t *testing.T, a, b *stack.Stack, n int) {
	t.Helper()
	transferTo(t, a, b, 2, n)
}

// transferTo sends n bytes from a to b, whose address is 10.0.0.ip, over
// TCP and checks that they arrive.
func transferTo(t *testing.T, a, b *stack.Stack, ip byte, n int) {
	t.Helper()
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, ip}), Port: 80}
	ln, err := gonet.ListenTCP(b.Stack, to, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i*7 + i>>11)
	}
	got := make(chan []byte, 1)
	go func() {
		defer close(got)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, a.Stack, to, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !bytes.Equal(<-got, payload) {
		t.Fatal("payload corrupted or cut crossing the link")
	}
}

// TestTCPBatched sends 1 MB through endpoints fed in batches (Enqueue,
// Flush) over devices that stage frames: the data arrives intact (so the
// endpoint's segmentation wrote valid headers and checksums), every frame
// went through Stage, the sending TCP handed the link large segments, and
// GRO merged segments, so the receiving TCP saw fewer segments than the
// link delivered frames.
func TestTCPBatched(t *testing.T) {
	mk := func(last byte) *stagerDev {
		return &stagerDev{wireDev: &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, last}}, batches: make(chan [][]byte, 1024)}
	}
	da, db := mk(1), mk(2)
	ea, eb := link.New(da), link.New(db)
	a, b := connect(t, nil, nil, da.batches, db.batches, ea, eb)
	transfer(t, a, b, 1<<20)
	rx, _, _, _ := eb.Stats()
	_, tx, _, txErr := ea.Stats()
	segs := b.Stats().TCP.ValidSegmentsReceived.Value()
	t.Logf("receiver: %d frames in, %d TCP segments; sender: %d frames staged in %d kicks", rx, segs, da.stagedN.Load(), da.kicks.Load())
	if txErr != 0 || uint64(da.stagedN.Load()) != tx || tx < 700 {
		t.Errorf("sender staged %d frames, counted %d sent and %d errors; want all of 1 MB (> 700) staged", da.stagedN.Load(), tx, txErr)
	}
	if segs == 0 || segs >= rx {
		t.Errorf("receiving TCP saw %d segments for %d frames: nothing merged", segs, rx)
	}
	// Segmentation offload: TCP sent far fewer segments than frames.
	if sent := a.Stats().TCP.SegmentsSent.Value(); sent*4 > tx {
		t.Errorf("sending TCP sent %d segments for %d frames: no segmentation offload", sent, tx)
	}
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

// TestTCPToOwnAddress sends 1 MB from a stack to its own address on a NIC
// with segmentation offload: gVisor loops the packets back inside the
// stack, never through the link, and they arrive intact.
func TestTCPToOwnAddress(t *testing.T) {
	a, _, _, ea, _ := cable(t)
	_, tx0, _, _ := ea.Stats()
	transferTo(t, a, a, 1, 1<<20)
	if _, tx, _, _ := ea.Stats(); tx != tx0 {
		t.Errorf("%d frames went out on the link for a connection to the stack's own address", tx-tx0)
	}
}

// TestBatchedCorruptFrame flips one payload bit of a full-size frame in a
// batch: GRO must not merge it, TCP must reject it by its checksum, and the
// sender's retransmission must repair the stream.
func TestBatchedCorruptFrame(t *testing.T) {
	mk := func(last byte) *stagerDev {
		return &stagerDev{wireDev: &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, last}}, batches: make(chan [][]byte, 1024)}
	}
	da, db := mk(1), mk(2)
	ea, eb := link.New(da), link.New(db)
	mid := make(chan [][]byte, 1024)
	go func() {
		full := 0
		for fs := range da.batches {
			for i, f := range fs {
				if len(f) > 1400 {
					if full++; full == 100 {
						f = append([]byte(nil), f...)
						f[len(f)-7] ^= 0x10
						fs[i] = f
					}
				}
			}
			mid <- fs
		}
	}()
	a, b := connect(t, nil, nil, mid, db.batches, ea, eb)
	transfer(t, a, b, 1<<20)
	if bad := b.Stats().TCP.ChecksumErrors.Value(); bad != 1 {
		t.Errorf("%d TCP checksum errors counted, want 1", bad)
	}
}

// BenchmarkTCPBatched streams 64 MiB per iteration, in 64 KiB writes, from
// one stack to another through batching devices, as the virtio-net driver
// feeds them; the receiver discards what it reads.
func BenchmarkTCPBatched(b *testing.B) {
	mk := func(last byte) *stagerDev {
		return &stagerDev{wireDev: &wireDev{mac: net.HardwareAddr{2, 0, 0, 0, 0, last}}, batches: make(chan [][]byte, 1024)}
	}
	da, db := mk(1), mk(2)
	ea, eb := link.New(da), link.New(db)
	t := &testing.T{}
	sa, sb := connect(t, nil, nil, da.batches, db.batches, ea, eb)
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), Port: 80}
	ln, err := gonet.ListenTCP(sb.Stack, to, ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	const total = 64 << 20
	got := make(chan int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n, _ := io.Copy(io.Discard, c)
			c.Close()
			got <- n
		}
	}()
	buf := make([]byte, 64<<10)
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := gonet.DialTCP(sa.Stack, to, ipv4.ProtocolNumber)
		if err != nil {
			b.Fatal(err)
		}
		for sent := 0; sent < total; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		if n := <-got; n != total {
			b.Fatalf("received %d bytes, sent %d", n, total)
		}
	}
	b.StopTimer()
	st := sa.Stats().TCP
	_, _, _, txErr := ea.Stats()
	b.Logf("sender: %d segments sent, %d retransmitted, %d timeouts; %d frames refused", st.SegmentsSent.Value(), st.Retransmits.Value(), st.Timeouts.Value(), txErr)
}
