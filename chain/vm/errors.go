package vm

import "fmt"

// Code classifies a VM error. Codes are stable: the node records them in
// transaction results, so their values never change.
type Code uint32

// Error codes returned by Prepare and Execute.
const (
	// CodeInvalidModule: the wasm is malformed, uses forbidden opcodes or
	// types (float, SIMD, threads), imports unknown functions, lacks the ABI
	// exports or exceeds a size limit.
	CodeInvalidModule Code = 1
	// CodeOutOfGas: the execution ran out of gas.
	CodeOutOfGas Code = 2
	// CodeTrap: the contract trapped (unreachable, out-of-bounds access,
	// division by zero, ...) or could not be instantiated.
	CodeTrap Code = 3
	// CodeMemoryLimit: the contract trapped after a memory.grow failed at
	// the memory limit (a failed grow itself returns -1 as in plain wasm).
	CodeMemoryLimit Code = 4
	// CodeCallDepth: the wasm call depth or the cross-contract call depth
	// went past its limit.
	CodeCallDepth Code = 5
	// CodeHost: a Host method failed, or the contract passed bad arguments
	// to a host function (out-of-range pointers, oversized data).
	CodeHost Code = 6
	// CodeRevert: the contract aborted on purpose (revert or abort).
	CodeRevert Code = 7
	// CodeNoMethod: the method is not exported or has the wrong signature.
	CodeNoMethod Code = 8
)

var codeNames = map[Code]string{
	CodeInvalidModule: "invalid module",
	CodeOutOfGas:      "out of gas",
	CodeTrap:          "trap",
	CodeMemoryLimit:   "memory limit",
	CodeCallDepth:     "call depth",
	CodeHost:          "host error",
	CodeRevert:        "revert",
	CodeNoMethod:      "no such method",
}

// String returns the short name of the code.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code %d", uint32(c))
}

// Error is the error type of Prepare and Execute.
type Error struct {
	Code Code
	Msg  string
}

// Error implements error.
func (e *Error) Error() string { return "vm: " + e.Code.String() + ": " + e.Msg }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
