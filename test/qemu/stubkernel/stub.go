// Package stubkernel is a stand-in kernel for testing the host tool's image
// and QEMU plumbing without the real XairrosX kernel. Linked into a Go main
// package in place of the kernel (entry symbol entry32), it never starts the
// Go runtime: in 32-bit protected mode it echoes the kernel command line to
// COM1 and then acts on the command line's last word:
//
//	N      write "XAIRROSX-EXIT N" to COM2, then exit QEMU with N&0x7f
//	qN     exit QEMU with N&0x7f without the COM2 line
//	hang   spin forever
//	reset  triple-fault (QEMU with -no-reboot exits with status 0)
//	echo   copy COM1 input to COM1 up to a newline, then exit 0
//
// It exists only for tests of internal/image, internal/qemu, test/qemu and
// the xairrosx tool; it lives outside internal/ so that test programs in
// other modules may import it.
package stubkernel

// entry32 is the PVH entry point, entered in 32-bit protected mode with
// paging off and EBX pointing at the hvm_start_info structure. It is
// assembly because no Go code can run before the runtime is set up.
// Defined in stub_amd64.s.
func entry32()
