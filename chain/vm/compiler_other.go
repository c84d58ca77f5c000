//go:build !unix

package vm

// CompilerSupported reports whether wazero's compiler can run here; outside
// Unix systems the VM always uses the interpreter.
func CompilerSupported() bool { return false }
