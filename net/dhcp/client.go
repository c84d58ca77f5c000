// Package dhcp is a DHCPv4 client (RFC 2131, options of RFC 2132): message
// encoding and decoding as pure functions (Message, Decode, LeaseFrom), the
// client state machine (Client: INIT, SELECTING, REQUESTING, BOUND,
// RENEWING, REBINDING) over any Conn, and a Conn over a gVisor UDP endpoint
// on one NIC (NewStackConn).
//
// gVisor's tcpip has no DHCP client in the version XairrosX uses; this one
// is small and follows RFC 2131's client side: broadcast DISCOVER, take the
// first OFFER, REQUEST it, and on ACK hand the lease to the caller; on NAK
// start over. Messages are retransmitted with exponential backoff (2 s, 4 s,
// ... up to 64 s by default, randomized), each exchange has its own xid,
// and the client identifier is the hardware address. A bound client renews
// by unicast at T1 and rebinds by broadcast at T2; a lease that expires or
// is refused is given up and acquisition starts again.
package dhcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"
)

// Conn carries DHCP messages for a client: it sends from port 68 to port 67
// and receives what arrives on port 68.
type Conn interface {
	// Send sends b to port 67 of to: 255.255.255.255 (broadcast) or a
	// server's address.
	Send(b []byte, to netip.Addr) error
	// Recv returns the next message received, or an error satisfying
	// errors.Is(err, os.ErrDeadlineExceeded) when none arrives before
	// deadline, or one satisfying errors.Is(err, net.ErrClosed) once the
	// Conn is closed.
	Recv(deadline time.Time) ([]byte, error)
}

// Broadcast is the limited broadcast address, where a client without a
// lease sends.
var Broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// Defaults of Client's retransmission timing.
const (
	DefaultInitial = 2 * time.Second
	DefaultMax     = 64 * time.Second
)

// Errors of the client.
var (
	// ErrNak means the server refused the request.
	ErrNak = errors.New("dhcp: server sent NAK")
	// ErrExpired means a lease ran out before it could be renewed.
	ErrExpired = errors.New("dhcp: lease expired")
	// ErrNoServer means no server answered before the context ended.
	ErrNoServer = errors.New("dhcp: no server answered")
)

// Client is a DHCP client for one interface.
type Client struct {
	// MAC is the interface's hardware address: the chaddr field and,
	// behind type 1, the client identifier (option 61).
	MAC net.HardwareAddr
	// Conn carries the messages.
	Conn Conn
	// Initial is the first retransmission timeout (DefaultInitial if 0);
	// each retransmission doubles it up to Max (DefaultMax if 0). Each
	// wait is randomized by up to a quarter of it, at most 1 s either way.
	Initial, Max time.Duration
	// Log, if set, is called with progress messages (retransmissions,
	// NAKs, renewals).
	Log func(format string, args ...any)
}

func (c *Client) initial() time.Duration {
	if c.Initial <= 0 {
		return DefaultInitial
	}
	return c.Initial
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

// message returns a client message of type t with the options every
// client message carries.
func (c *Client) message(t Type, xid uint32, start time.Time) *Message {
	secs := time.Since(start) / time.Second
	return &Message{
		Op:     OpRequest,
		Xid:    xid,
		Secs:   uint16(min(secs, 0xffff)),
		CHAddr: c.MAC,
		Options: map[byte][]byte{
			OptMessageType:  {byte(t)},
			OptClientID:     append([]byte{1}, c.MAC...),
			OptParamRequest: {OptSubnetMask, OptRouter, OptDNS, OptLeaseTime, OptServerID, OptRenewalTime, OptRebindingTime},
		},
	}
}

// exchange sends what out returns to dst (calling out again for every
// retransmission, so that secs advances) and returns the first reply that
// matches xid, the client's MAC and one of the wanted types. It
// retransmits with backoff until the context ends or until, after at most
// tries sends (0: no limit), a wait ends without an answer. Messages that
// do not decode or do not match are ignored.
func (c *Client) exchange(ctx context.Context, out func() *Message, dst netip.Addr, tries int, want ...Type) (*Message, error) {
	timeout := c.initial()
	maxWait := c.Max
	if maxWait <= 0 {
		maxWait = DefaultMax
	}
	for n := 1; ; n++ {
		m := out()
		b, err := m.Encode()
		if err != nil {
			return nil, err
		}
		if err := c.Conn.Send(b, dst); err != nil {
			c.logf("dhcp: send %v to %v: %v", m.Type(), dst, err)
		}
		wait := timeout + jitter(timeout)
		until := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(until) {
			until = d
		}
		if r, err := c.await(ctx, m.Xid, until, want); r != nil || err != nil {
			return r, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			// The context's timer may not have fired yet.
			return nil, context.DeadlineExceeded
		}
		if tries > 0 && n >= tries {
			return nil, os.ErrDeadlineExceeded
		}
		c.logf("dhcp: no answer to %v after %v, retransmitting", m.Type(), wait.Round(time.Millisecond))
		timeout = min(2*timeout, maxWait)
	}
}

// jitter returns a random duration in [-d/4, d/4], at most 1 s either way
// (RFC 2131 section 4.1 randomizes by ±1 s).
func jitter(d time.Duration) time.Duration {
	j := min(d/4, time.Second)
	if j <= 0 {
		return 0
	}
	return rand.N(2*j+1) - j
}

// await receives until a reply matching xid and one of the wanted types
// arrives (returned), until passes (nil, nil) or the context ends (nil,
// nil: the caller checks the context).
func (c *Client) await(ctx context.Context, xid uint32, until time.Time, want []Type) (*Message, error) {
	for time.Now().Before(until) && ctx.Err() == nil {
		// Wake up at least every 100 ms to notice a cancelled context.
		b, err := c.Conn.Recv(minTime(until, time.Now().Add(100*time.Millisecond)))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dhcp: receive: %w", err)
		}
		r, err := Decode(b)
		if err != nil {
			c.logf("%v (ignored)", err)
			continue
		}
		if r.Op != OpReply || r.Xid != xid || string(r.CHAddr) != string(c.MAC) {
			continue
		}
		for _, t := range want {
			if r.Type() == t {
				return r, nil
			}
		}
	}
	return nil, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// requestTries is how many times a REQUEST is sent in REQUESTING before
// the client goes back to INIT.
const requestTries = 4

// Acquire obtains a lease: DISCOVER until an OFFER comes, then REQUEST
// the offered address until an ACK (done) or a NAK (start over) comes. It
// returns the lease and the time its first DISCOVER was sent, from which
// the lease's times count; it fails with ErrNoServer (wrapping the
// context's error) when the context ends first, and with the Conn's error
// if the Conn is closed.
func (c *Client) Acquire(ctx context.Context) (Lease, time.Time, error) {
	for {
		l, start, err := c.acquireOnce(ctx)
		if err == nil {
			return l, start, nil
		}
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			cause := ctx.Err()
			if cause == nil {
				cause = context.DeadlineExceeded // the context's timer is late
			}
			return Lease{}, time.Time{}, fmt.Errorf("%w: %w", ErrNoServer, cause)
		}
		if errors.Is(err, net.ErrClosed) {
			return Lease{}, time.Time{}, err // the Conn is gone: nothing to retry with
		}
		c.logf("%v; starting over", err)
		// Do not hammer a server that keeps refusing.
		select {
		case <-time.After(c.initial()):
		case <-ctx.Done():
		}
	}
}

// acquireOnce runs INIT, SELECTING and REQUESTING once.
func (c *Client) acquireOnce(ctx context.Context) (Lease, time.Time, error) {
	start := time.Now()
	xid := rand.Uint32()
	offer, err := c.exchange(ctx, func() *Message {
		m := c.message(Discover, xid, start)
		m.Flags = FlagBroadcast
		return m
	}, Broadcast, 0, Offer)
	if err != nil {
		return Lease{}, start, err
	}
	ol, err := LeaseFrom(offer)
	if err != nil {
		return Lease{}, start, fmt.Errorf("unusable OFFER: %w", err)
	}
	if !ol.Server.IsValid() {
		return Lease{}, start, fmt.Errorf("OFFER for %v has no server identifier", ol.Addr)
	}
	reply, err := c.exchange(ctx, func() *Message {
		m := c.message(Request, xid, start)
		m.Flags = FlagBroadcast
		m.Options[OptRequestedIP] = AddrBytes(ol.Addr.Addr())
		m.Options[OptServerID] = AddrBytes(ol.Server)
		return m
	}, Broadcast, requestTries, Ack, Nak)
	if err != nil {
		return Lease{}, start, fmt.Errorf("no answer to REQUEST for %v: %w", ol.Addr.Addr(), err)
	}
	return c.bound(reply, start)
}

// bound turns an ACK or NAK into the lease or ErrNak.
func (c *Client) bound(reply *Message, start time.Time) (Lease, time.Time, error) {
	if reply.Type() == Nak {
		return Lease{}, start, fmt.Errorf("%w %q", ErrNak, reply.Options[OptMessage])
	}
	l, err := LeaseFrom(reply)
	if err != nil {
		return Lease{}, start, fmt.Errorf("unusable ACK: %w", err)
	}
	return l, start, nil
}

// Renew keeps lease l (obtained at start) alive: at T1 it REQUESTs its
// renewal from the server by unicast (RENEWING), from T2 by broadcast
// (REBINDING). It returns the renewed lease and the time its renewal
// began, or ErrNak, ErrExpired or the context's error.
func (c *Client) Renew(ctx context.Context, l Lease, start time.Time) (Lease, time.Time, error) {
	if l.Time == Infinite {
		<-ctx.Done()
		return Lease{}, start, ctx.Err()
	}
	t1, t2, expiry := start.Add(l.T1), start.Add(l.T2), start.Add(l.Time)
	if err := sleepUntil(ctx, t1); err != nil {
		return Lease{}, start, err
	}
	renew := time.Now()
	xid := rand.Uint32()
	request := func() *Message {
		m := c.message(Request, xid, renew)
		m.CIAddr = l.Addr.Addr()
		return m
	}
	for _, phase := range []struct {
		name  string
		dst   netip.Addr
		until time.Time
	}{{"renewing", l.Server, t2}, {"rebinding", Broadcast, expiry}} {
		if !phase.dst.IsValid() {
			continue // no server identifier: only rebinding can work
		}
		pctx, cancel := context.WithDeadline(ctx, phase.until)
		reply, err := c.exchange(pctx, request, phase.dst, 0, Ack, Nak)
		cancel()
		if err == nil {
			return c.bound(reply, renew)
		}
		if ctx.Err() != nil {
			return Lease{}, start, ctx.Err()
		}
		c.logf("dhcp: %s %v: no answer by %v", phase.name, l.Addr.Addr(), phase.until.Format(time.TimeOnly))
	}
	return Lease{}, start, ErrExpired
}

func sleepUntil(ctx context.Context, t time.Time) error {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run keeps the interface configured after lease l (obtained at start):
// it renews the lease when due and calls apply with each renewed lease; if
// the lease is refused or expires it calls apply with the zero Lease (the
// address must go), acquires a new one (retrying until ctx ends) and calls
// apply with it. It returns when ctx ends.
func (c *Client) Run(ctx context.Context, l Lease, start time.Time, apply func(Lease)) {
	for {
		nl, ns, err := c.Renew(ctx, l, start)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.logf("dhcp: lease of %v lost: %v", l.Addr, err)
			apply(Lease{})
			if nl, ns, err = c.Acquire(ctx); err != nil {
				return
			}
		}
		l, start = nl, ns
		apply(l)
	}
}
