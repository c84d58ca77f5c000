package dhcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Ports of the protocol (RFC 2131 section 4.1).
const (
	ServerPort = 67
	ClientPort = 68
)

// Op codes of the BOOTP header.
const (
	OpRequest = 1 // client to server
	OpReply   = 2 // server to client
)

// Type is a DHCP message type (option 53).
type Type byte

// Message types (RFC 2132 section 9.6).
const (
	Discover Type = 1
	Offer    Type = 2
	Request  Type = 3
	Decline  Type = 4
	Ack      Type = 5
	Nak      Type = 6
	Release  Type = 7
	Inform   Type = 8
)

var typeNames = [...]string{"", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

// Option codes used by the client (RFC 2132).
const (
	OptPad            = 0
	OptSubnetMask     = 1
	OptRouter         = 3
	OptDNS            = 6
	OptRequestedIP    = 50
	OptLeaseTime      = 51
	OptOverload       = 52
	OptMessageType    = 53
	OptServerID       = 54
	OptParamRequest   = 55
	OptMessage        = 56
	OptMaxMessageSize = 57
	OptRenewalTime    = 58
	OptRebindingTime  = 59
	OptClientID       = 61
	OptEnd            = 255
)

// FlagBroadcast asks servers to broadcast their replies, for clients that
// cannot receive unicast before they have an address (RFC 2131 section 2).
const FlagBroadcast = 0x8000

// Layout of the fixed part of a message (RFC 2131 figure 1).
const (
	headerLen = 236
	cookieLen = 4
	// MinLen is the shortest message Decode accepts: the fixed header
	// and the magic cookie.
	MinLen = headerLen + cookieLen
	// minSend is the length messages are padded to (BOOTP's 300 bytes),
	// since some servers drop shorter ones.
	minSend = 300
)

var magicCookie = [4]byte{99, 130, 83, 99}

// Message is a DHCP message: the BOOTP header fields a client uses and the
// options, by code (the last occurrence of a code wins; RFC 3396
// concatenation of split options is applied).
type Message struct {
	Op     byte
	Xid    uint32
	Secs   uint16
	Flags  uint16
	CIAddr netip.Addr // client's current address (renewing, rebinding)
	YIAddr netip.Addr // address offered to the client
	SIAddr netip.Addr // next server (BOOTP)
	GIAddr netip.Addr // relay agent
	CHAddr []byte     // client hardware address (at most 16 bytes)

	Options map[byte][]byte
}

// Encode returns the message in wire format: header, magic cookie, options
// (in increasing code order, so that encoding is deterministic), end
// option, padded to 300 bytes. An option longer than 255 bytes is split
// into several (RFC 3396).
func (m *Message) Encode() ([]byte, error) {
	if len(m.CHAddr) > 16 {
		return nil, fmt.Errorf("dhcp: hardware address of %d bytes, at most 16 fit", len(m.CHAddr))
	}
	b := make([]byte, MinLen, 576)
	b[0] = m.Op
	b[1] = 1 // Ethernet
	b[2] = byte(len(m.CHAddr))
	binary.BigEndian.PutUint32(b[4:], m.Xid)
	binary.BigEndian.PutUint16(b[8:], m.Secs)
	binary.BigEndian.PutUint16(b[10:], m.Flags)
	for i, a := range []netip.Addr{m.CIAddr, m.YIAddr, m.SIAddr, m.GIAddr} {
		if !a.IsValid() {
			continue
		}
		if !a.Is4() {
			return nil, fmt.Errorf("dhcp: header address %v is not IPv4", a)
		}
		v := a.As4()
		copy(b[12+4*i:], v[:])
	}
	copy(b[28:44], m.CHAddr)
	copy(b[headerLen:], magicCookie[:])
	for code := 1; code < OptEnd; code++ {
		v, ok := m.Options[byte(code)]
		if !ok {
			continue
		}
		for first := true; first || len(v) > 0; first = false {
			n := min(len(v), 255)
			b = append(b, byte(code), byte(n))
			b = append(b, v[:n]...)
			v = v[n:]
		}
	}
	b = append(b, OptEnd)
	for len(b) < minSend {
		b = append(b, OptPad)
	}
	return b, nil
}

// Decode parses a message in wire format. It checks the lengths, the
// hardware address length and the magic cookie, and parses the options
// area and, when option 52 says so, the file and sname fields. Errors name
// the offset of the problem.
func Decode(b []byte) (*Message, error) {
	if len(b) < MinLen {
		return nil, fmt.Errorf("dhcp: message of %d bytes, shorter than the %d-byte header and cookie", len(b), MinLen)
	}
	if [4]byte(b[headerLen:MinLen]) != magicCookie {
		return nil, fmt.Errorf("dhcp: bad magic cookie % x at offset %d", b[headerLen:MinLen], headerLen)
	}
	hlen := int(b[2])
	if hlen > 16 {
		return nil, fmt.Errorf("dhcp: hardware address length %d at offset 2 exceeds 16", hlen)
	}
	m := &Message{
		Op:      b[0],
		Xid:     binary.BigEndian.Uint32(b[4:]),
		Secs:    binary.BigEndian.Uint16(b[8:]),
		Flags:   binary.BigEndian.Uint16(b[10:]),
		CHAddr:  append([]byte(nil), b[28:28+hlen]...),
		Options: map[byte][]byte{},
	}
	addr := func(off int) netip.Addr { return netip.AddrFrom4([4]byte(b[off : off+4])) }
	m.CIAddr, m.YIAddr, m.SIAddr, m.GIAddr = addr(12), addr(16), addr(20), addr(24)
	if err := m.parseOptions(b[MinLen:], MinLen); err != nil {
		return nil, err
	}
	// Option overload (RFC 2132 section 9.3): options continue in the
	// file (1), sname (2) or both (3) fields.
	if ov, ok := m.Options[OptOverload]; ok {
		if len(ov) != 1 || ov[0] < 1 || ov[0] > 3 {
			return nil, fmt.Errorf("dhcp: option overload value % x is not 1, 2 or 3", ov)
		}
		delete(m.Options, OptOverload)
		if ov[0]&1 != 0 {
			if err := m.parseOptions(b[108:236], 108); err != nil {
				return nil, err
			}
		}
		if ov[0]&2 != 0 {
			if err := m.parseOptions(b[44:108], 44); err != nil {
				return nil, err
			}
		}
		delete(m.Options, OptOverload) // an overload inside file or sname means nothing
	}
	return m, nil
}

// parseOptions adds the options in area (which starts at offset base of
// the message) to m.Options, concatenating repeated codes (RFC 3396).
func (m *Message) parseOptions(area []byte, base int) error {
	for i := 0; i < len(area); {
		code := area[i]
		switch code {
		case OptPad:
			i++
			continue
		case OptEnd:
			return nil
		}
		if i+1 >= len(area) {
			return fmt.Errorf("dhcp: option %d at offset %d has no length byte", code, base+i)
		}
		n := int(area[i+1])
		if i+2+n > len(area) {
			return fmt.Errorf("dhcp: option %d at offset %d claims %d bytes, %d remain", code, base+i, n, len(area)-i-2)
		}
		m.Options[code] = append(m.Options[code], area[i+2:i+2+n]...)
		i += 2 + n
	}
	// A missing end option is tolerated: some servers omit it.
	return nil
}

// Type returns the message type (option 53), or 0 if it is absent or
// malformed.
func (m *Message) Type() Type {
	if v := m.Options[OptMessageType]; len(v) == 1 {
		return Type(v[0])
	}
	return 0
}

// Addr returns option code as one IPv4 address.
func (m *Message) Addr(code byte) (netip.Addr, bool) {
	v := m.Options[code]
	if len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// Addrs returns option code as a list of IPv4 addresses (router, DNS);
// nil if it is absent or not a multiple of 4 bytes.
func (m *Message) Addrs(code byte) []netip.Addr {
	v := m.Options[code]
	if len(v) == 0 || len(v)%4 != 0 {
		return nil
	}
	var as []netip.Addr
	for ; len(v) > 0; v = v[4:] {
		as = append(as, netip.AddrFrom4([4]byte(v[:4])))
	}
	return as
}

// Duration returns option code as a time in seconds (lease, T1, T2).
// 0xffffffff means infinity; it is returned as the largest Duration.
func (m *Message) Duration(code byte) (time.Duration, bool) {
	v := m.Options[code]
	if len(v) != 4 {
		return 0, false
	}
	s := binary.BigEndian.Uint32(v)
	if s == 0xffffffff {
		return Infinite, true
	}
	return time.Duration(s) * time.Second, true
}

// Infinite is the duration of a lease that never expires.
const Infinite = time.Duration(1<<63 - 1)

// Uint32 encodes a 32-bit option value.
func Uint32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// AddrBytes encodes IPv4 addresses as an option value.
func AddrBytes(as ...netip.Addr) []byte {
	var b []byte
	for _, a := range as {
		v := a.As4()
		b = append(b, v[:]...)
	}
	return b
}

// Lease is the configuration a server gave: the address and prefix, the
// default routers, DNS servers, the server's identifier and the lease's
// times, measured from when the request was sent.
type Lease struct {
	Addr    netip.Prefix
	Routers []netip.Addr
	DNS     []netip.Addr
	Server  netip.Addr
	Time    time.Duration // lease length (Infinite if infinite)
	T1, T2  time.Duration // renewal and rebinding times
}

// Gateway returns the first router, or the zero Addr if none was given.
func (l Lease) Gateway() netip.Addr {
	if len(l.Routers) == 0 {
		return netip.Addr{}
	}
	return l.Routers[0]
}

// String formats the lease as "10.0.2.15/24 gw 10.0.2.2 dns 10.0.2.3 lease 86400s".
func (l Lease) String() string {
	s := l.Addr.String()
	if g := l.Gateway(); g.IsValid() {
		s += " gw " + g.String()
	}
	if len(l.DNS) > 0 {
		s += " dns"
		for i, d := range l.DNS {
			if i > 0 {
				s += ","
			} else {
				s += " "
			}
			s += d.String()
		}
	}
	if l.Time == Infinite {
		return s + " lease infinite"
	}
	return s + fmt.Sprintf(" lease %ds", int64(l.Time/time.Second))
}

// ErrNotLease means an ACK lacks what a lease needs.
var ErrNotLease = errors.New("dhcp: not a usable lease")

// LeaseFrom extracts the lease an ACK (or OFFER) carries. A zero or
// non-unicast address, a missing or non-contiguous subnet mask and a
// missing or zero lease time are errors. T1 and T2 default to 1/2 and 7/8
// of the lease (RFC 2131 section 4.4.5); T1 is clamped to T2.
func LeaseFrom(m *Message) (Lease, error) {
	a := m.YIAddr
	if !a.Is4() || a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return Lease{}, fmt.Errorf("%w: offered address %v", ErrNotLease, a)
	}
	mask, ok := m.Options[OptSubnetMask]
	if !ok || len(mask) != 4 {
		return Lease{}, fmt.Errorf("%w: subnet mask (option 1) missing or not 4 bytes", ErrNotLease)
	}
	bits := 0
	mv := binary.BigEndian.Uint32(mask)
	for bits < 32 && mv&(1<<(31-bits)) != 0 {
		bits++
	}
	if bits == 0 || mv<<bits != 0 {
		return Lease{}, fmt.Errorf("%w: subnet mask %d.%d.%d.%d is not a contiguous prefix", ErrNotLease, mask[0], mask[1], mask[2], mask[3])
	}
	lt, ok := m.Duration(OptLeaseTime)
	if !ok || lt == 0 {
		return Lease{}, fmt.Errorf("%w: lease time (option 51) missing or zero", ErrNotLease)
	}
	l := Lease{Addr: netip.PrefixFrom(a, bits), Routers: m.Addrs(OptRouter), DNS: m.Addrs(OptDNS), Time: lt}
	l.Server, _ = m.Addr(OptServerID)
	l.T1, l.T2 = lt/2, lt/8*7
	if lt == Infinite {
		l.T1, l.T2 = Infinite, Infinite
	}
	if t, ok := m.Duration(OptRenewalTime); ok && t <= lt {
		l.T1 = t
	}
	if t, ok := m.Duration(OptRebindingTime); ok && t <= lt {
		l.T2 = t
	}
	if l.T1 > l.T2 {
		l.T1 = l.T2
	}
	return l, nil
}
