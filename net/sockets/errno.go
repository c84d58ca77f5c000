package sockets

import (
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Errno maps a netstack error to the errno Linux gives in the same case
// (the table follows gVisor's pkg/syserr/netstack.go). Errors without a
// Linux counterpart map to EINVAL.
func Errno(err tcpip.Error) syscall.Errno {
	switch err.(type) {
	case nil:
		return 0
	case *tcpip.ErrWouldBlock, *tcpip.ErrNoPortAvailable:
		return syscall.EAGAIN
	case *tcpip.ErrConnectStarted:
		return syscall.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		return syscall.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return syscall.EISCONN
	case *tcpip.ErrNotConnected:
		return syscall.ENOTCONN
	case *tcpip.ErrPortInUse:
		return syscall.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return syscall.EADDRNOTAVAIL
	case *tcpip.ErrClosedForSend, *tcpip.ErrAborted:
		return syscall.EPIPE
	case *tcpip.ErrConnectionRefused:
		return syscall.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return syscall.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return syscall.ECONNABORTED
	case *tcpip.ErrTimeout:
		return syscall.ETIMEDOUT
	case *tcpip.ErrDestinationRequired:
		return syscall.EDESTADDRREQ
	case *tcpip.ErrNotSupported:
		return syscall.EOPNOTSUPP
	case *tcpip.ErrQueueSizeNotSupported:
		return syscall.ENOTTY
	case *tcpip.ErrUnknownProtocolOption:
		return syscall.ENOPROTOOPT
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice, *tcpip.ErrInvalidNICID:
		return syscall.ENODEV
	case *tcpip.ErrDuplicateNICID, *tcpip.ErrDuplicateAddress:
		return syscall.EEXIST
	case *tcpip.ErrNoSuchFile:
		return syscall.ENOENT
	case *tcpip.ErrBadAddress, *tcpip.ErrBadBuffer:
		return syscall.EFAULT
	case *tcpip.ErrNetworkUnreachable:
		return syscall.ENETUNREACH
	case *tcpip.ErrHostUnreachable:
		return syscall.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return syscall.EHOSTDOWN
	case *tcpip.ErrNoNet:
		return syscall.ENONET
	case *tcpip.ErrMessageTooLong:
		return syscall.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return syscall.ENOBUFS
	case *tcpip.ErrBroadcastDisabled:
		return syscall.EACCES
	case *tcpip.ErrNotPermitted:
		return syscall.EPERM
	case *tcpip.ErrAddressFamilyNotSupported:
		return syscall.EAFNOSUPPORT
	case *tcpip.ErrEndpointBusy:
		return syscall.EBUSY
	}
	// ErrAlreadyBound, ErrInvalidEndpointState, ErrInvalidOptionValue,
	// ErrInvalidPortRange, ErrMalformedHeader, ErrUnknownProtocol,
	// ErrMissingRequiredFields, ErrMulticastInputCannotBeOutput,
	// ErrClosedForReceive (callers turn that one into end of file).
	return syscall.EINVAL
}
