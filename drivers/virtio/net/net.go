// Package net drives virtio network devices: Ethernet frames out through
// the transmit queue (Transmit, or Stage and Kick for a batch) and in
// through the receive queue, which the driver keeps filled with buffers and
// drains on each interrupt, handing every frame to a receive callback or,
// without one, to a channel.
//
// The API is shaped for a network stack's link endpoint (gVisor netstack's
// stack.LinkEndpoint can sit on it): MAC, MTU, Transmit, and a callback
// that runs once per received frame, plus one after each batch.
//
// Interrupts are kept few, as Linux's virtio-net driver does: the receive
// queue's interrupt is switched off while a goroutine of the driver drains
// it (and on again, with a last look for frames that came meanwhile, when
// it is empty), and the transmit queue's is off unless a sender waits for
// a free buffer: completed transmit buffers are reclaimed when the next
// frame is sent.
//
// Specification: VIRTIO 1.2, 5.1 (network device). No offloads are
// negotiated: the virtio-net header is all zeros on transmit and ignored
// on receive.
package net

import (
	"errors"
	"fmt"
	gonet "net"
	"runtime"
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

// rxRefill is how many receive buffers the driver gives back to the device
// at once while it delivers a batch.
const rxRefill = 32

// Timeout bounds how long Transmit waits for a free transmit buffer.
var Timeout = 5 * time.Second

// ErrClosed is returned by Transmit after Close.
var ErrClosed = errors.New("net: device closed")

// ErrTxTimeout means no transmit buffer freed up within Timeout.
var ErrTxTimeout = errors.New("net: no transmit buffer free in time")

// NIC is a virtio network device.
type NIC struct {
	dev       *virtio.Device
	rx, tx    *virtio.Queue
	mac       gonet.HardwareAddr
	status    bool
	receive   func(frame []byte)
	batchDone func()
	frames    chan []byte
	txWake    chan struct{} // the interrupt handler freed transmit buffers
	rxWake    chan struct{} // the interrupt handler saw the receive queue used
	rxDone    chan struct{} // receiveLoop has returned
	closed    chan struct{}
	once      sync.Once
	mu        sync.Mutex // guards the buffer tables; orders Submit with Reap and Close
	rxBuf     []uintptr  // by descriptor chain head: the buffer the device holds
	txBuf     []uintptr
	txFree    []uintptr // transmit buffers the device does not hold
	rxFrames  atomic.Uint64
	txFrames  atomic.Uint64
	dropped   atomic.Uint64
	irqs      atomic.Uint64
}

// Options configure Open.
type Options struct {
	// Receive, if set, is called with each received frame on the
	// driver's receive goroutine; it should not block. frame is the device's
	// buffer and valid only until Receive returns: the callee copies what
	// it keeps. Without Receive, frames go (copied) to the channel Frames
	// returns, and are dropped when it is full.
	Receive func(frame []byte)
	// BatchDone, if set, is called on the receive goroutine after each
	// batch of frames passed to Receive (a stack may hold frames back to
	// coalesce them until then).
	BatchDone func()
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
	rx, tx := dev.Queues[rxQueue], dev.Queues[txQueue]
	n := &NIC{
		dev: dev, rx: rx, tx: tx,
		status:    dev.Has(FeatureStatus),
		receive:   o.Receive,
		batchDone: o.BatchDone,
		rxBuf:     make([]uintptr, rx.Size()),
		txBuf:     make([]uintptr, tx.Size()),
		txWake:    make(chan struct{}, 1),
		rxWake:    make(chan struct{}, 1),
		rxDone:    make(chan struct{}),
		closed:    make(chan struct{}),
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
	for i := 0; i < int(tx.Size()); i++ {
		b, err := dev.Arena.Take(bufSize, 64)
		if err != nil {
			return fail(fmt.Errorf("net %v: %w", t, err))
		}
		n.txFree = append(n.txFree, b)
	}
	bufs := make([]uintptr, rx.Size())
	for i := range bufs {
		if bufs[i], err = dev.Arena.Take(bufSize, 64); err != nil {
			return fail(fmt.Errorf("net %v: %w", t, err))
		}
	}
	if err := n.postRX(bufs); err != nil {
		return fail(err)
	}
	tx.DisableInterrupts() // see Stage
	go n.receiveLoop()
	fail = func(err error) (*NIC, error) {
		close(n.closed)
		<-n.rxDone
		dev.Close()
		return nil, err
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

// postRX makes buffers bufs available to the device for received frames.
func (n *NIC) postRX(bufs []uintptr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range bufs {
		head, err := n.rx.Submit([]virtio.Buffer{{Addr: b, Len: bufSize, Write: true}})
		if err != nil {
			return fmt.Errorf("net %v: receive buffer: %w", n.dev.T, err)
		}
		n.rxBuf[head] = b
	}
	return nil
}

// interrupt reclaims sent buffers (waking a waiting sender), switches the
// receive queue's interrupt off and wakes the receive goroutine, which
// drains the queue (NAPI's split: the interrupt line, which other devices
// may share, is free again at once).
func (n *NIC) interrupt(isr uint8) {
	if isr&virtio.ISRQueue == 0 {
		return
	}
	n.irqs.Add(1)
	n.mu.Lock()
	freed := n.reapTX()
	n.mu.Unlock()
	if freed > 0 {
		select {
		case n.txWake <- struct{}{}:
		default:
		}
	}
	n.rx.DisableInterrupts()
	select {
	case n.rxWake <- struct{}{}:
	default:
	}
}

// receiveLoop drains the receive queue after each interrupt, with the
// queue's interrupt off, and switches it on again once the queue is empty,
// looking once more for frames that came meanwhile. It returns at Close.
func (n *NIC) receiveLoop() {
	defer close(n.rxDone)
	for {
		select {
		case <-n.rxWake:
		case <-n.closed:
			return
		}
		for {
			for n.receiveBatch() > 0 {
				// Let the goroutines that consume the frames run
				// before the next batch.
				runtime.Gosched()
				select {
				case <-n.closed:
					return
				default:
				}
			}
			if !n.rx.EnableInterrupts() {
				break
			}
			n.rx.DisableInterrupts()
		}
	}
}

// reapTX returns the buffers of sent frames to the free list; n.mu is held.
func (n *NIC) reapTX() (freed int) {
	n.tx.Reap(func(head uint16, _ uint32) {
		if b := n.txBuf[head]; b != 0 {
			n.txBuf[head] = 0
			n.txFree = append(n.txFree, b)
			freed++
		}
	})
	return freed
}

// rxDone is a buffer the device filled, and how many bytes it wrote.
type rxDone struct {
	buf uintptr
	len uint32
}

// receiveBatch delivers the frames received so far, gives their buffers
// back to the device, and returns how many there were.
func (n *NIC) receiveBatch() int {
	var got []rxDone
	n.mu.Lock()
	n.rx.Reap(func(head uint16, written uint32) {
		if b := n.rxBuf[head]; b != 0 {
			n.rxBuf[head] = 0
			got = append(got, rxDone{b, written})
		}
	})
	n.mu.Unlock()
	var bufs [rxRefill]uintptr
	k := 0
	for i, d := range got {
		if d.len > HeaderSize && d.len <= bufSize {
			n.rxFrames.Add(1)
			n.deliver(dma.Bytes(d.buf+HeaderSize, int(d.len-HeaderSize)))
		}
		bufs[k] = d.buf
		k++
		if k == len(bufs) || i == len(got)-1 {
			if err := n.postRX(bufs[:k]); err != nil {
				n.dropped.Add(1) // cannot happen: the buffers' descriptors were just freed
			}
			n.rx.Notify()
			k = 0
		}
	}
	if len(got) > 0 && n.batchDone != nil {
		n.batchDone()
	}
	return len(got)
}

func (n *NIC) deliver(frame []byte) {
	if n.receive != nil {
		n.receive(frame)
		return
	}
	select {
	case n.frames <- append([]byte(nil), frame...):
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
		<-n.rxDone // it no longer touches the queues
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

// Interrupts returns how many queue interrupts the driver has handled.
func (n *NIC) Interrupts() uint64 { return n.irqs.Load() }

// Transmit queues one Ethernet frame (destination, source, type, payload;
// no FCS) for sending and tells the device. It returns once the device has
// the frame, before the frame is on the wire; frame may be reused at once.
func (n *NIC) Transmit(frame []byte) error {
	if err := n.Stage(frame); err != nil {
		return err
	}
	n.Kick()
	return nil
}

// Kick tells the device about the frames Stage queued.
func (n *NIC) Kick() { n.tx.Notify() }

// Stage queues one Ethernet frame, the concatenation of parts, for
// sending, without telling the device (Kick does; Stage does too when it
// has to wait for a buffer). The parts may be reused once it returns.
//
// Sent frames' buffers are reclaimed here rather than on an interrupt;
// only when none is free does Stage ask for the transmit queue's interrupt
// and wait for it, up to Timeout.
func (n *NIC) Stage(parts ...[]byte) error {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if size < minFrame || size > MaxFrame {
		return fmt.Errorf("net %v: frame of %d bytes: want %d to %d", n.dev.T, size, minFrame, MaxFrame)
	}
	var timer *time.Timer
	n.mu.Lock()
	for len(n.txFree) == 0 {
		select {
		case <-n.closed:
			n.mu.Unlock()
			return ErrClosed
		default:
		}
		if n.reapTX() > 0 {
			break
		}
		// The ring is full: make sure the device knows about it, and
		// have it interrupt when it has sent something.
		pending := n.tx.EnableInterrupts()
		n.mu.Unlock()
		n.tx.Notify()
		if !pending {
			if timer == nil {
				timer = time.NewTimer(Timeout)
				defer timer.Stop()
			}
			select {
			case <-n.txWake:
			case <-timer.C:
				n.tx.DisableInterrupts()
				return fmt.Errorf("net %v: %w", n.dev.T, ErrTxTimeout)
			case <-n.closed:
				return ErrClosed
			}
		}
		n.mu.Lock()
		n.tx.DisableInterrupts()
	}
	select {
	case <-n.closed:
		n.mu.Unlock()
		return ErrClosed // the memory behind the buffers may be gone
	default:
	}
	b := n.txFree[len(n.txFree)-1]
	buf := dma.Bytes(b, HeaderSize+size)
	clear(buf[:HeaderSize])
	off := HeaderSize
	for _, p := range parts {
		off += copy(buf[off:], p)
	}
	head, err := n.tx.Submit([]virtio.Buffer{{Addr: b, Len: uint32(len(buf))}})
	if err == nil {
		n.txFree = n.txFree[:len(n.txFree)-1]
		n.txBuf[head] = b
	}
	n.mu.Unlock()
	if err != nil {
		return fmt.Errorf("net %v: %w", n.dev.T, err)
	}
	n.txFrames.Add(1)
	return nil
}
