// Package qemu holds the tests that boot XairrosX images in QEMU: the guest
// programs of test/guests, each run natively on the host and under
// `xairrosx run` with stdout and exit status compared, and the host tool's
// behaviour on bad input (missing or broken packages, images too large for
// -mem, unknown flags, hung guests). The tool is built once per test run.
//
// Tests that need a guest to boot before the real kernel can run programs
// use the stub kernel in package stubkernel.
package qemu
