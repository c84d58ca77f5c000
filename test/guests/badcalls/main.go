// Command badcalls makes system calls with bad arguments - unmapped and
// kernel addresses where the kernel must read or write, descriptors that
// are not open or of the wrong kind - and prints the error each returns. The
// kernel must answer each with Linux's errno (EFAULT, EBADF, ENOTSOCK,
// ESPIPE, ...), never fault; the test compares the output with a native run
// on Linux.
package main

import (
	"fmt"
	_ "net" // for the socket calls (XairrosX adds its network service)
	"os"
	"syscall"
	"unsafe"
)

// Addresses no program may touch: unmapped low memory, a kernel-half
// address, and a non-canonical one.
var bad = []uintptr{1, 0x1000, 0xffff800000001000, 0x0000900000000000}

func call(name string, nr uintptr, args ...uintptr) {
	var a [6]uintptr
	copy(a[:], args)
	_, _, e := syscall.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	fmt.Printf("%-34s %s\n", name, errName(e))
}

func errName(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	for _, n := range []struct {
		e    syscall.Errno
		name string
	}{{syscall.EFAULT, "EFAULT"}, {syscall.EBADF, "EBADF"}, {syscall.ENOTSOCK, "ENOTSOCK"},
		{syscall.ESPIPE, "ESPIPE"}, {syscall.EINVAL, "EINVAL"}, {syscall.ENOTDIR, "ENOTDIR"},
		{syscall.ENOENT, "ENOENT"}} {
		if n.e == e {
			return n.name
		}
	}
	return fmt.Sprintf("errno %d", int(e))
}

func main() {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		fmt.Println("pipe2:", err)
		os.Exit(1)
	}
	r, w := uintptr(p[0]), uintptr(p[1])
	dir := os.TempDir()
	f, err := os.Create(dir + "/badcalls.txt")
	if err != nil {
		fmt.Println("create:", err)
		os.Exit(1)
	}
	f.WriteString("some bytes to read back")
	fd := f.Fd()
	var buf [64]byte
	b := uintptr(unsafe.Pointer(&buf[0]))
	sock, _, _ := syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	epfd, _, _ := syscall.RawSyscall(syscall.SYS_EPOLL_CREATE1, syscall.EPOLL_CLOEXEC, 0, 0)

	// Bad descriptors.
	call("read(9999)", syscall.SYS_READ, 9999, b, 1)
	call("write(-1)", syscall.SYS_WRITE, ^uintptr(0), b, 1)
	call("close(9999)", syscall.SYS_CLOSE, 9999)
	call("fstat(9999)", syscall.SYS_FSTAT, 9999, b)
	call("getdents64(9999)", syscall.SYS_GETDENTS64, 9999, b, 64)
	call("lseek(pipe)", syscall.SYS_LSEEK, r, 0, 0)
	call("bind(pipe)", syscall.SYS_BIND, r, b, 16)
	call("connect(file)", syscall.SYS_CONNECT, fd, b, 16)
	call("epoll_ctl(ADD 9999)", syscall.SYS_EPOLL_CTL, epfd, syscall.EPOLL_CTL_ADD, 9999, b)
	call("fsync(9999)", syscall.SYS_FSYNC, 9999)
	call("dup3(9999)", syscall.SYS_DUP3, 9999, 100, 0)
	call("dup3(pipe, same)", syscall.SYS_DUP3, r, r, 0)
	call("dup3(pipe, 100)", syscall.SYS_DUP3, r, 100, syscall.O_CLOEXEC)
	call("close(100)", syscall.SYS_CLOSE, 100)
	call("getdents64(file)", syscall.SYS_GETDENTS64, fd, b, 64)
	call("sync()", syscall.SYS_SYNC)
	call("syncfs(9999)", 306, 9999)
	call("syncfs(file)", 306, fd)
	call("sync_file_range(pipe)", syscall.SYS_SYNC_FILE_RANGE, r, 0, 0, 0)
	call("sync_file_range(file)", syscall.SYS_SYNC_FILE_RANGE, fd, 0, 0, 2)
	call("fsync(pipe)", syscall.SYS_FSYNC, r)

	// Bad pointers. The pipe has a byte to read, and epoll watches it, so
	// that epoll_wait has an event to store.
	syscall.Write(p[1], []byte("x"))
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(r)}
	syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, epfd, syscall.EPOLL_CTL_ADD, r, uintptr(unsafe.Pointer(&ev)), 0, 0)
	for i, a := range bad {
		fmt.Printf("-- address %d\n", i)
		call("write(pipe, bad)", syscall.SYS_WRITE, w, a, 8)
		call("read(pipe, bad)", syscall.SYS_READ, r, a, 8)
		call("pread(file, bad)", syscall.SYS_PREAD64, fd, a, 8, 0)
		call("pwrite(file, bad)", syscall.SYS_PWRITE64, fd, a, 8, 0)
		call("openat(bad path)", syscall.SYS_OPENAT, ^uintptr(99), a, 0)
		call("newfstatat(bad path)", syscall.SYS_NEWFSTATAT, ^uintptr(99), a, b, 0)
		call("fstat(file, bad)", syscall.SYS_FSTAT, fd, a)
		call("fstat(pipe, bad)", syscall.SYS_FSTAT, r, a)
		call("mkdirat(bad path)", syscall.SYS_MKDIRAT, ^uintptr(99), a, 0o755)
		call("getcwd(bad)", syscall.SYS_GETCWD, a, 64)
		call("pipe2(bad)", syscall.SYS_PIPE2, a, 0)
		call("uname(bad)", syscall.SYS_UNAME, a)
		call("nanosleep(bad)", syscall.SYS_NANOSLEEP, a, 0)
		call("clock_gettime(bad)", syscall.SYS_CLOCK_GETTIME, 1, a)
		call("connect(socket, bad)", syscall.SYS_CONNECT, sock, a, 16)
		call("epoll_ctl(bad event)", syscall.SYS_EPOLL_CTL, epfd, syscall.EPOLL_CTL_ADD, r, a)
		call("epoll_wait(bad events)", syscall.SYS_EPOLL_PWAIT, epfd, a, 4, 0, 0)
		call("rt_sigaction(bad)", syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGUSR1), a, 0, 8)
		call("sched_getaffinity(bad)", syscall.SYS_SCHED_GETAFFINITY, 0, 128, a)
		call("getrandom(bad)", 318, a, 8, 0)
	}
	os.Remove(dir + "/badcalls.txt")
	fmt.Println("still running")
}
