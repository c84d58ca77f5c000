// Package net drives virtio network devices: Ethernet frames out through
// the transmit queue (Transmit) and in through the receive queue, which the
// driver keeps filled with buffers and drains on each interrupt, handing
// every frame to a receive callback or, without one, to a channel.
//
// The API is shaped for a network stack's link endpoint (gVisor netstack's
// stack.LinkEndpoint can sit on it): MAC, MTU, Transmit, and a callback
// that runs once per received frame.
//
// Specification: VIRTIO 1.2, 5.1 (network device). No offloads are
// negotiated: the virtio-net header is all zeros on transmit and ignored
// on receive.
package net

import (
	"errors"
	"fmt"
	gonet "net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
)

// Feature bits (VIRTIO 1.2, 5.1.3).
const (
	FeatureMAC    = 1 << 5
	FeatureStatus = 1 << 16
)

const (
	rxQueue = 0
	txQueue = 1

	// HeaderSize is struct virtio_net_hdr with num_buffers (VERSION_1).
	HeaderSize = 12
	// MTU is the largest payload of a frame.
	MTU = 1500
	// MaxFrame is the largest frame Transmit takes (Ethernet header, no FCS).
	MaxFrame = MTU + 14
	// minFrame is an Ethernet header.
	minFrame = 14

	bufSize    = 2048 // one RX or TX buffer: header and frame
	queueSize  = 128
	regionSize = 2 << 20
	linkUp     = 1 // status field bit VIRTIO_NET_S_LINK_UP
)

// Timeout bounds how long Transmit waits for a free transmit buffer.
var Timeout = 5 * time.Second

// ErrClosed is returned by Transmit after Close.
var ErrClosed = errors.New("net: device closed")

// ErrTxTimeout means no transmit buffer freed up within Timeout.
var ErrTxTimeout = errors.New("net: no transmit buffer free in time")

// NIC is a virtio network device.
type NIC struct {
	dev      *virtio.Device
	rx, tx   *virtio.Queue
	mac      gonet.HardwareAddr
	status   bool
	receive  func(frame []byte)
	frames   chan []byte
	txFree   chan uintptr
	closed   chan struct{}
	once     sync.Once
	mu       sync.Mutex // orders Submit with the interrupt handler's Reap
	rxBuf    map[uint16]uintptr
	txBuf    map[uint16]uintptr
	rxFrames atomic.Uint64
	txFrames atomic.Uint64
	dropped  atomic.Uint64
}

// Options configure Open.
type Options struct {
	// Receive, if set, is called with each received frame (a fresh slice
	// the callee may keep) on the interrupt goroutine; it should not block.
	// Without it, frames go to the channel Frames returns, and are dropped
	// when it is full.
	Receive func(frame []byte)
	// Backlog is the capacity of the Frames channel (default 256).
	Backlog int
}

// Open initialises the network device behind t, with DMA memory from
// alloc (dma.Kernel{} on XairrosX), fills its receive queue and starts it.
func Open(t virtio.Transport, alloc dma.Allocator, o Options) (*NIC, error) {
	dev, err := virtio.Init(t, virtio.Setup{
		Wanted: FeatureMAC | FeatureStatus,
		Queues: 2, QueueSize: queueSize,
		DMA: alloc, Region: regionSize,
	})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*NIC, error) {
		dev.Close()
		return nil, err
	}
	if o.Backlog <= 0 {
		o.Backlog = 256
	}
	n := &NIC{
		dev: dev, rx: dev.Queues[rxQueue], tx: dev.Queues[txQueue],
		status:  dev.Has(FeatureStatus),
		receive: o.Receive,
		rxBuf:   map[uint16]uintptr{},
		txBuf:   map[uint16]uintptr{},
		txFree:  make(chan uintptr, int(dev.Queues[txQueue].Size())),
		closed:  make(chan struct{}),
	}
	if n.receive == nil {
		n.frames = make(chan []byte, o.Backlog)
	}
	if dev.Has(FeatureMAC) {
		for i := 0; i < 6; i++ {
			n.mac = append(n.mac, t.Config8(i))
		}
	} else {
		// A locally administered address of our own (VIRTIO 1.2, 5.1.5:
		// without VIRTIO_NET_F_MAC the driver picks one).
		n.mac = gonet.HardwareAddr{0x02, 0x58, 0x41, 0x49, 0x52, 0x01}
	}
	for i := 0; i < int(n.tx.Size()); i++ {
		b, err := dev.Arena.Take(bufSize, 64)
		if err != nil {
			return fail(fmt.Errorf("net %v: %w", t, err))
		}
		n.txFree <- b
	}
	for i := 0; i < int(n.rx.Size()); i++ {
		b, err := dev.Arena.Take(bufSize, 64)
		if err != nil {
			return fail(fmt.Errorf("net %v: %w", t, err))
		}
		if err := n.postRX(b); err != nil {
			return fail(err)
		}
	}
	if err := dev.OnInterrupt(n.interrupt); err != nil {
		return fail(err)
	}
	if err := dev.Start(); err != nil {
		return fail(err)
	}
	n.rx.Notify()
	return n, nil
}

// postRX makes buffer b available to the device for a received frame.
func (n *NIC) postRX(b uintptr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	head, err := n.rx.Submit([]virtio.Buffer{{Addr: b, Len: bufSize, Write: true}})
	if err != nil {
		return fmt.Errorf("net %v: receive buffer: %w", n.dev.T, err)
	}
	n.rxBuf[head] = b
	return nil
}

func (n *NIC) interrupt(isr uint8) {
	if isr&virtio.ISRQueue == 0 {
		return
	}
	type done struct {
		buf uintptr
		len uint32
	}
	var got []done
	n.mu.Lock()
	n.tx.Reap(func(head uint16, _ uint32) {
		if b, ok := n.txBuf[head]; ok {
			delete(n.txBuf, head)
			n.txFree <- b
		}
	})
	n.rx.Reap(func(head uint16, written uint32) {
		if b, ok := n.rxBuf[head]; ok {
			delete(n.rxBuf, head)
			got = append(got, done{b, written})
		}
	})
	n.mu.Unlock()
	for _, d := range got {
		if d.len > HeaderSize && d.len <= bufSize {
			frame := make([]byte, d.len-HeaderSize)
			copy(frame, dma.Bytes(d.buf+HeaderSize, len(frame)))
			n.rxFrames.Add(1)
			n.deliver(frame)
		}
		if err := n.postRX(d.buf); err != nil {
			n.dropped.Add(1) // cannot happen: the buffer's descriptor was just freed
		}
	}
	if len(got) > 0 {
		n.rx.Notify()
	}
}

func (n *NIC) deliver(frame []byte) {
	if n.receive != nil {
		n.receive(frame)
		return
	}
	select {
	case n.frames <- frame:
	default:
		n.dropped.Add(1)
	}
}

// Close stops the device and frees its memory; Transmit then fails with
// ErrClosed and no more frames arrive. Later calls return ErrClosed.
func (n *NIC) Close() error {
	err := ErrClosed
	n.once.Do(func() {
		n.mu.Lock()
		close(n.closed)
		n.mu.Unlock()
		err = n.dev.Close()
	})
	return err
}

// MAC returns the device's Ethernet address.
func (n *NIC) MAC() gonet.HardwareAddr { return n.mac }

// MTU returns the largest payload of a frame.
func (n *NIC) MTU() int { return MTU }

// LinkUp reports the link status (always up if the device does not say).
func (n *NIC) LinkUp() bool {
	if !n.status {
		return true
	}
	return n.dev.T.Config16(6)&linkUp != 0
}

// Frames returns the channel of received frames (nil if Options.Receive
// was set).
func (n *NIC) Frames() <-chan []byte { return n.frames }

// Stats returns counts of frames received, transmitted, and dropped
// because the Frames channel was full.
func (n *NIC) Stats() (rx, tx, dropped uint64) {
	return n.rxFrames.Load(), n.txFrames.Load(), n.dropped.Load()
}

// Transmit queues one Ethernet frame (destination, source, type, payload;
// no FCS) for sending. It returns once the device has the frame, before
// the frame is on the wire; frame may be reused at once.
func (n *NIC) Transmit(frame []byte) error {
	if len(frame) < minFrame || len(frame) > MaxFrame {
		return fmt.Errorf("net %v: frame of %d bytes: want %d to %d", n.dev.T, len(frame), minFrame, MaxFrame)
	}
	var b uintptr
	select {
	case <-n.closed:
		return ErrClosed
	case b = <-n.txFree:
	default:
		timer := time.NewTimer(Timeout)
		defer timer.Stop()
		select {
		case b = <-n.txFree:
		case <-timer.C:
			return fmt.Errorf("net %v: %w", n.dev.T, ErrTxTimeout)
		case <-n.closed:
			return ErrClosed
		}
	}
	n.mu.Lock()
	select {
	case <-n.closed:
		n.mu.Unlock()
		return ErrClosed // the memory behind b may be gone
	default:
	}
	buf := dma.Bytes(b, HeaderSize+len(frame))
	clear(buf[:HeaderSize])
	copy(buf[HeaderSize:], frame)
	head, err := n.tx.Submit([]virtio.Buffer{{Addr: b, Len: uint32(len(buf))}})
	if err == nil {
		n.txBuf[head] = b
	}
	n.mu.Unlock()
	if err != nil {
		n.txFree <- b
		return fmt.Errorf("net %v: %w", n.dev.T, err)
	}
	n.txFrames.Add(1)
	n.tx.Notify()
	return nil
}
