// Package link connects a network device that carries Ethernet frames
// (drivers/virtio/net.NIC, or any Device) to gVisor's stack: Endpoint is a
// stack.LinkEndpoint that adds and strips Ethernet headers (ARP resolves
// neighbours), sends outgoing frames through Device.Transmit from a
// goroutine of its own, and takes received frames through Deliver, or
// through Enqueue and Flush for a batch.
//
// Received TCP segments pass through gVisor's generic receive offload
// (GRO): within a batch, consecutive in-order segments of one connection
// are merged into one larger segment (after their checksums are checked),
// so that TCP processes and acknowledges a batch at a time, as Linux's
// GRO does for a NAPI poll.
//
// Plug it in with New, then net/stack's Stack.AddNIC; hand every frame the
// device receives to Endpoint.Deliver, or to Endpoint.Enqueue followed by
// Endpoint.Flush at the end of each batch (the virtio-net driver's
// Options.Receive and Options.BatchDone callbacks).
package link

import (
	"net"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/stack/gro"
)

// Device is a network device that sends Ethernet frames (destination,
// source, type, payload; no FCS).
type Device interface {
	// MAC returns the device's Ethernet address.
	MAC() net.HardwareAddr
	// MTU returns the largest payload of a frame (1500 for Ethernet).
	MTU() int
	// Transmit sends one frame; the frame may be reused once it returns.
	Transmit(frame []byte) error
}

// Stager is a Device that also takes frames in parts and several at a
// time (drivers/virtio/net.NIC is one): Stage queues a frame, the
// concatenation of parts, and Kick hands the queued frames to the
// hardware. The endpoint then copies each outgoing packet once, from the
// stack's buffers straight into the device's.
type Stager interface {
	Device
	Stage(parts ...[]byte) error
	Kick()
}

// queueLen is the number of outgoing packets the endpoint holds while the
// device is busy; more are dropped, as a full NIC queue drops them.
const queueLen = 256

// Endpoint is a stack.LinkEndpoint over a Device.
type Endpoint struct {
	*ethernet.Endpoint
	ch   *channel.Endpoint
	dev  Device
	wake chan struct{}
	done chan struct{}
	once sync.Once

	rxMu       sync.Mutex              // serialises received packets
	nic        stack.NetworkDispatcher // the stack's NIC
	gro        gro.GRO                 // delivers to validated
	rxVerified atomic.Bool             // see Capabilities

	rx, tx, rxDropped, txErrors atomic.Uint64
}

// New returns an endpoint over dev and starts its transmit goroutine.
func New(dev Device) *Endpoint {
	ch := channel.New(queueLen, uint32(dev.MTU()+header.EthernetMinimumSize), tcpip.LinkAddress(dev.MAC()))
	e := &Endpoint{
		Endpoint: ethernet.New(ch),
		ch:       ch,
		dev:      dev,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	e.gro.Init(true)
	ch.AddNotify(e)
	go e.transmit()
	return e
}

// Attach implements stack.LinkEndpoint.Attach: received packets go
// through GRO to d.
func (e *Endpoint) Attach(d stack.NetworkDispatcher) {
	e.rxMu.Lock()
	e.nic = d
	if d == nil {
		e.gro.Dispatcher = nil
	} else {
		e.gro.Dispatcher = (*validated)(e)
	}
	e.rxMu.Unlock()
	e.Endpoint.Attach(d)
}

// Capabilities implements stack.LinkEndpoint.Capabilities. While it hands
// the stack a packet whose IPv4 header and TCP checksums GRO has verified
// (and which, merged, no longer carries valid ones), it reports receive
// checksum offload: the only place gVisor looks at that capability is
// where the NIC takes a received packet, to decide whether the network and
// transport layers verify checksums again. Every other packet is verified
// by them as usual.
func (e *Endpoint) Capabilities() stack.LinkEndpointCapabilities {
	c := e.Endpoint.Capabilities()
	if e.rxVerified.Load() {
		c |= stack.CapabilityRXChecksumOffload
	}
	return c
}

// validated is the dispatcher GRO delivers to: the stack's NIC, told
// whether GRO verified the packet's checksums. Its methods run with
// e.rxMu held.
type validated Endpoint

// DeliverNetworkPacket implements stack.NetworkDispatcher.
func (v *validated) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if pkt.RXChecksumValidated {
		v.rxVerified.Store(true)
		defer v.rxVerified.Store(false)
	}
	v.nic.DeliverNetworkPacket(proto, pkt)
}

// DeliverLinkPacket implements stack.NetworkDispatcher.
func (v *validated) DeliverLinkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	v.nic.DeliverLinkPacket(proto, pkt)
}

// WriteNotify implements channel.Notification: an outgoing packet is queued.
func (e *Endpoint) WriteNotify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// transmit sends queued packets through the device until Close.
func (e *Endpoint) transmit() {
	st, staging := e.dev.(Stager)
	var frame []byte // a frame in one piece, for a Device that is no Stager
	send := func(parts [][]byte) error {
		var err error
		if staging {
			err = st.Stage(parts...)
		} else {
			frame = frame[:0]
			for _, p := range parts {
				frame = append(frame, p...)
			}
			err = e.dev.Transmit(frame)
		}
		e.count(err)
		return nil // one frame lost is no reason to drop the rest
	}
	for {
		select {
		case <-e.wake:
		case <-e.done:
			return
		}
		for {
			pkt := e.ch.Read()
			if pkt == nil {
				break
			}
			if err := frames(pkt, send); err != nil {
				e.count(err)
			}
			pkt.DecRef()
		}
		if staging {
			st.Kick()
		}
	}
}

// count counts a frame sent, or refused by the device.
func (e *Endpoint) count(err error) {
	if err != nil {
		e.txErrors.Add(1)
	} else {
		e.tx.Add(1)
	}
}

// Deliver hands a frame received by the device to the stack. Frames shorter
// than an Ethernet header are counted and dropped. frame is copied.
func (e *Endpoint) Deliver(frame []byte) {
	e.rxMu.Lock()
	e.enqueue(frame)
	e.gro.Flush()
	e.rxMu.Unlock()
}

// Enqueue hands a frame received by the device to the stack, which may
// hold it back, to merge it with later segments of the same connection,
// until the next Flush: call Flush at the end of every batch of frames.
// Frames shorter than an Ethernet header are counted and dropped. frame is
// copied.
func (e *Endpoint) Enqueue(frame []byte) {
	e.rxMu.Lock()
	e.enqueue(frame)
	e.rxMu.Unlock()
}

// Flush delivers the frames Enqueue held back.
func (e *Endpoint) Flush() {
	e.rxMu.Lock()
	e.gro.Flush()
	e.rxMu.Unlock()
}

// enqueue implements Enqueue; e.rxMu is held. It strips the Ethernet
// header, as gVisor's ethernet endpoint would, but before the packet
// buffer is made: GRO checks checksums at offsets that count from the
// start of the buffer (stack.PacketData.ChecksumAtOffset ignores consumed
// headers), so the buffer must begin with the network header.
func (e *Endpoint) enqueue(frame []byte) {
	if len(frame) < header.EthernetMinimumSize {
		e.rxDropped.Add(1)
		return
	}
	e.rx.Add(1)
	if e.nic == nil {
		return
	}
	eth := header.Ethernet(frame)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame[header.EthernetMinimumSize:])})
	switch dst := eth.DestinationAddress(); {
	case dst == header.EthernetBroadcastAddress:
		pkt.PktType = tcpip.PacketBroadcast
	case header.IsMulticastEthernetAddress(dst):
		pkt.PktType = tcpip.PacketMulticast
	case dst == e.LinkAddress():
		pkt.PktType = tcpip.PacketHost
	default:
		pkt.PktType = tcpip.PacketOtherHost
	}
	pkt.NetworkProtocolNumber = eth.Type()
	e.gro.Enqueue(pkt)
	pkt.DecRef()
}

// Close implements stack.LinkEndpoint.Close: it stops the transmit
// goroutine. The device itself stays open.
func (e *Endpoint) Close() {
	e.once.Do(func() { close(e.done) })
	e.Endpoint.Close()
}

// Stats returns the frames received and sent, received frames dropped as
// malformed, and frames the device refused.
func (e *Endpoint) Stats() (rx, tx, rxDropped, txErrors uint64) {
	return e.rx.Load(), e.tx.Load(), e.rxDropped.Load(), e.txErrors.Load()
}
