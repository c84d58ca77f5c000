// Package kernel is the XairrosX kernel core. This first commit is only the
// boot bring-up: it prints a line on COM1 and exits QEMU; the Linux ABI lands
// next.
package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

func kmain(startInfo uintptr) {
	for _, c := range []byte("XairrosX boot\n") {
		for amd64.Inb(0x3f8+5)&0x20 == 0 {
		}
		amd64.Outb(0x3f8, c)
	}
	amd64.Outw(0x501, 7)
	for {
	}
}

func trap(f *amd64.Frame) {}
