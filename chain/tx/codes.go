package tx

import "fmt"

// Code is a stable numeric rejection code returned by CheckTx and
// FinalizeBlock (ExecTxResult.Code). Zero means success. Codes are part of the
// chain's interface: never renumber them, only append.
type Code uint32

// Rejection codes. Their numbers are stable.
const (
	CodeOK                Code = 0
	CodeMalformed         Code = 1  // bytes do not decode as a transaction
	CodeTooLarge          Code = 2  // transaction exceeds MaxTxBytes
	CodeWrongChainID      Code = 3  // signed for another chain
	CodeBadSignature      Code = 4  // Ed25519 signature invalid
	CodeBadNonce          Code = 5  // nonce is not the account's next nonce (replay or gap)
	CodeInsufficientFee   Code = 6  // fee below the minimum for this transaction
	CodeInsufficientFunds Code = 7  // balance cannot cover fee + amount
	CodeInvalidContract   Code = 8  // deploy: wasm rejected by the VM loader
	CodeUnknownContract   Code = 9  // call: no contract at the address
	CodeOutOfGas          Code = 10 // contract ran out of gas
	CodeContractFailed    Code = 11 // contract trapped or returned an error
	CodeUnknownModel      Code = 12 // infer: model hash not registered
	CodeInferenceFailed   Code = 13 // model rejected the input or failed
	CodeModelExists       Code = 14 // register_model: model already registered
	CodeInvalidModel      Code = 15 // register_model: model bytes rejected
	CodeGasLimit          Code = 16 // gas limit above the per-transaction maximum
	CodeMemoryLimit       Code = 17 // contract exceeded its memory limit
	CodeCallDepth         Code = 18 // contract call depth exceeded
	CodeInternal          Code = 99 // node-side failure (storage); never expected
)

var codeNames = map[Code]string{
	CodeOK:                "ok",
	CodeMalformed:         "malformed transaction",
	CodeTooLarge:          "transaction too large",
	CodeWrongChainID:      "wrong chain id",
	CodeBadSignature:      "bad signature",
	CodeBadNonce:          "bad nonce",
	CodeInsufficientFee:   "insufficient fee",
	CodeInsufficientFunds: "insufficient funds",
	CodeInvalidContract:   "invalid contract",
	CodeUnknownContract:   "unknown contract",
	CodeOutOfGas:          "out of gas",
	CodeContractFailed:    "contract failed",
	CodeUnknownModel:      "unknown model",
	CodeInferenceFailed:   "inference failed",
	CodeModelExists:       "model already registered",
	CodeInvalidModel:      "invalid model",
	CodeGasLimit:          "gas limit too high",
	CodeMemoryLimit:       "contract memory limit",
	CodeCallDepth:         "contract call depth exceeded",
	CodeInternal:          "internal error",
}

// String returns the code's short stable name.
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code %d", uint32(c))
}

// Error is a rejection: a stable code and a message naming what was wrong.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (code %d): %s", e.Code, uint32(e.Code), e.Msg) }

// Errorf builds an *Error with a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}
