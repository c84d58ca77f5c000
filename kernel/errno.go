package kernel

// Linux errno values returned (negated) by system calls. Only the trap
// dispatcher writes them into RAX.
const (
	_EPERM           = 1
	_ENOENT          = 2
	_ESRCH           = 3
	_EINTR           = 4
	_EBADF           = 9
	_EAGAIN          = 11
	_ENOMEM          = 12
	_EFAULT          = 14
	_EEXIST          = 17
	_EBUSY           = 16
	_ENODEV          = 19
	_EINVAL          = 22
	_EMFILE          = 24
	_ENOTTY          = 25
	_ESPIPE          = 29
	_ERANGE          = 34
	_ENOSYS          = 38
	_ETIMEDOUT       = 110
	_EAFNOSUPPORT    = 97
	_EPROTONOSUPPORT = 93
	_EOPNOTSUPP      = 95
)
