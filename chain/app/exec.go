package app

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/tx"
	"github.com/xairrosx/xairrosx/chain/vm"
)

// Fee schedule. A transaction must offer at least
// BaseFee + FeePerKiB·⌈len/1024⌉ + ⌈GasLimit/GasPerFeeUnit⌉; the whole offered
// fee is moved to the fee pool once the transaction is in a block, whether
// its body succeeds or not.
const (
	BaseFee       = 10
	FeePerKiB     = 1
	GasPerFeeUnit = 1000
	MaxGasLimit   = 100_000_000 // about 2 s of interpreted wasm
	MaxBlockGas   = 300_000_000 // sum of the gas limits of a block's transactions
	MaxModelBytes = 512 << 10
)

// RequiredFee is the minimum fee of a transaction of rawLen bytes.
func RequiredFee(rawLen int, gasLimit uint64) uint64 {
	return BaseFee + FeePerKiB*uint64((rawLen+1023)/1024) + (gasLimit+GasPerFeeUnit-1)/GasPerFeeUnit
}

// InferFunc runs a registered int8 model on raw input bytes and returns the
// raw bytes of its first output. It must be bit-exact on every node; the
// node backs it with ai/infer.RunInt8.
type InferFunc func(model, input []byte) ([]byte, error)

// result is the outcome of one transaction.
type result struct {
	code    tx.Code
	log     string
	data    []byte
	gasUsed uint64
	events  []abci.Event
}

func fail(err error) result {
	var te *tx.Error
	if errors.As(err, &te) {
		return result{code: te.Code, log: te.Error()}
	}
	return result{code: tx.CodeInternal, log: err.Error()}
}

// execution is the context of one transaction.
type execution struct {
	app    *App
	ctx    context.Context
	height int64
	txHash []byte
	events []abci.Event
}

// deliver applies one decoded transaction to kv. sigOK says whether its
// signature verified. When the checks before execution fail nothing is
// written. When the body fails, only the fee and nonce are written, unless
// all is set to false (CheckTx), in which case nothing is.
func (a *App) deliver(ctx context.Context, kv state.KV, t *tx.Tx, raw []byte, sigOK bool, height int64, keepFeeOnFailure bool) result {
	if t.ChainID != a.cfg.ChainID {
		return fail(tx.Errorf(tx.CodeWrongChainID, "transaction is for chain %q, this is %q", t.ChainID, a.cfg.ChainID))
	}
	if !sigOK {
		return fail(tx.Errorf(tx.CodeBadSignature, "signature does not verify for key %x", t.PubKey))
	}
	if t.GasLimit > MaxGasLimit {
		return fail(tx.Errorf(tx.CodeGasLimit, "gas limit %d above maximum %d", t.GasLimit, MaxGasLimit))
	}
	if need := RequiredFee(len(raw), t.GasLimit); t.Fee < need {
		return fail(tx.Errorf(tx.CodeInsufficientFee, "fee %d, need at least %d", t.Fee, need))
	}
	sender := t.Sender()
	txo := state.NewOverlay(kv)
	acct, err := loadAccount(txo, sender)
	if err != nil {
		return fail(err)
	}
	if t.Nonce != acct.Nonce {
		return fail(tx.Errorf(tx.CodeBadNonce, "account %s expects nonce %d, got %d", sender, acct.Nonce, t.Nonce))
	}
	need := t.Fee
	if t.Kind == tx.KindTransfer {
		need += t.Amount
		if need < t.Amount {
			return fail(tx.Errorf(tx.CodeInsufficientFunds, "fee + amount overflows"))
		}
	}
	if acct.Balance < need {
		return fail(tx.Errorf(tx.CodeInsufficientFunds, "account %s has %d, needs %d", sender, acct.Balance, need))
	}
	acct.Balance -= t.Fee
	acct.Nonce++
	if err := txo.Set(AccountKey(sender), acct.Encode()); err != nil {
		return fail(err)
	}
	if err := addFeePool(txo, t.Fee); err != nil {
		return fail(err)
	}
	h := tx.Hash(raw)
	ex := &execution{app: a, ctx: ctx, height: height, txHash: h[:]}
	body := state.NewOverlay(txo)
	res := ex.run(body, t)
	if res.code == tx.CodeOK {
		if err := body.Write(); err != nil {
			return fail(err)
		}
		res.events = append(ex.events, res.events...)
	} else if !keepFeeOnFailure {
		return res
	}
	if err := txo.Write(); err != nil {
		return fail(err)
	}
	res.events = append(res.events, abci.Event{Type: "tx", Attributes: []abci.EventAttribute{
		{Key: "kind", Value: t.Kind.String(), Index: true},
		{Key: "sender", Value: sender.String(), Index: true},
		{Key: "nonce", Value: strconv.FormatUint(t.Nonce, 10)},
		{Key: "fee", Value: strconv.FormatUint(t.Fee, 10)},
	}})
	return res
}

func loadAccount(kv state.KV, a tx.Address) (Account, error) {
	b, err := kv.Get(AccountKey(a))
	if err != nil {
		return Account{}, err
	}
	acct, ok := DecodeAccount(b)
	if !ok {
		return Account{}, tx.Errorf(tx.CodeInternal, "account %s: corrupt value of %d bytes", a, len(b))
	}
	return acct, nil
}

func addFeePool(kv state.KV, fee uint64) error {
	b, err := kv.Get([]byte(KeyFeePool))
	if err != nil {
		return err
	}
	var total uint64
	if len(b) == 8 {
		total = binary.BigEndian.Uint64(b)
	}
	return kv.Set([]byte(KeyFeePool), binary.BigEndian.AppendUint64(nil, total+fee))
}

// run executes the body of t on kv.
func (ex *execution) run(kv state.KV, t *tx.Tx) result {
	switch t.Kind {
	case tx.KindTransfer:
		return ex.transfer(kv, t)
	case tx.KindDeploy:
		return ex.deploy(kv, t)
	case tx.KindCall:
		return ex.call(kv, t)
	case tx.KindRegisterModel:
		return ex.registerModel(kv, t)
	case tx.KindInfer:
		return ex.infer(kv, t)
	}
	return fail(tx.Errorf(tx.CodeMalformed, "unknown kind %d", t.Kind))
}

func (ex *execution) transfer(kv state.KV, t *tx.Tx) result {
	from := t.Sender()
	src, err := loadAccount(kv, from)
	if err != nil {
		return fail(err)
	}
	if src.Balance < t.Amount {
		return fail(tx.Errorf(tx.CodeInsufficientFunds, "account %s has %d, sends %d", from, src.Balance, t.Amount))
	}
	src.Balance -= t.Amount
	if err := kv.Set(AccountKey(from), src.Encode()); err != nil {
		return fail(err)
	}
	dst, err := loadAccount(kv, t.To)
	if err != nil {
		return fail(err)
	}
	if dst.Balance+t.Amount < dst.Balance {
		return fail(tx.Errorf(tx.CodeInsufficientFunds, "balance of %s would overflow", t.To))
	}
	dst.Balance += t.Amount
	if err := kv.Set(AccountKey(t.To), dst.Encode()); err != nil {
		return fail(err)
	}
	return result{events: []abci.Event{{Type: "transfer", Attributes: []abci.EventAttribute{
		{Key: "from", Value: from.String(), Index: true},
		{Key: "to", Value: t.To.String(), Index: true},
		{Key: "amount", Value: strconv.FormatUint(t.Amount, 10)},
	}}}}
}

func (ex *execution) deploy(kv state.KV, t *tx.Tx) result {
	prepared, err := vm.Prepare(t.Code, ex.app.cfg.VM)
	if err != nil {
		return fail(tx.Errorf(tx.CodeInvalidContract, "%v", err))
	}
	addr := tx.ContractAddress(t.Sender(), t.Nonce)
	if err := kv.Set(CodeKey(addr), prepared); err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(prepared)
	return result{data: addr[:], events: []abci.Event{{Type: "deploy", Attributes: []abci.EventAttribute{
		{Key: "contract", Value: addr.String(), Index: true},
		{Key: "code_hash", Value: hex.EncodeToString(sum[:])},
	}}}}
}

func (ex *execution) call(kv state.KV, t *tx.Tx) result {
	sender := t.Sender()
	out, gas, err := ex.callContract(kv, sender[:], t.To[:], t.Method, t.Input, t.GasLimit, 0)
	if err != nil {
		r := fail(vmError(t.To, t.Method, err))
		r.gasUsed = gas
		return r
	}
	return result{data: out, gasUsed: gas}
}

// callContract runs method of contract with its own overlay over kv, so a
// failed nested call leaves no writes. VM errors are returned as they are
// (*vm.Error), so that a caller contract's VM propagates the callee's code.
func (ex *execution) callContract(kv state.KV, caller, contract []byte, method string, input []byte, gasLimit uint64, depth int) ([]byte, uint64, error) {
	var addr tx.Address
	if len(contract) != tx.AddressLen {
		return nil, 0, tx.Errorf(tx.CodeUnknownContract, "contract address has %d bytes, want %d", len(contract), tx.AddressLen)
	}
	copy(addr[:], contract)
	code, err := kv.Get(CodeKey(addr))
	if err != nil {
		return nil, 0, err
	}
	if code == nil {
		return nil, 0, tx.Errorf(tx.CodeUnknownContract, "no contract at %s", addr)
	}
	eng, err := ex.app.vmEngine()
	if err != nil {
		return nil, 0, tx.Errorf(tx.CodeContractFailed, "vm unavailable: %v", err)
	}
	ov := state.NewOverlay(kv)
	h := &host{ex: ex, kv: ov, caller: caller, self: addr[:], depth: depth}
	mark := len(ex.events)
	res, err := eng.Execute(ex.ctx, code, method, input, gasLimit, h, depth)
	if err != nil {
		ex.events = ex.events[:mark]
		return nil, res.GasUsed, err
	}
	if err := ov.Write(); err != nil {
		return nil, res.GasUsed, err
	}
	return res.Output, res.GasUsed, nil
}

// vmError maps a chain/vm error to a stable transaction code.
func vmError(addr tx.Address, method string, err error) error {
	var ve *vm.Error
	if !errors.As(err, &ve) {
		var te *tx.Error
		if errors.As(err, &te) {
			return te
		}
		return tx.Errorf(tx.CodeContractFailed, "contract %s.%s: %v", addr, method, err)
	}
	code := tx.CodeContractFailed
	switch ve.Code {
	case vm.CodeOutOfGas:
		code = tx.CodeOutOfGas
	case vm.CodeMemoryLimit:
		code = tx.CodeMemoryLimit
	case vm.CodeCallDepth:
		code = tx.CodeCallDepth
	}
	return tx.Errorf(code, "contract %s.%s: %v (vm code %d)", addr, method, ve, uint32(ve.Code))
}

func (ex *execution) registerModel(kv state.KV, t *tx.Tx) result {
	if len(t.Code) == 0 || len(t.Code) > MaxModelBytes {
		return fail(tx.Errorf(tx.CodeInvalidModel, "model of %d bytes; want 1..%d", len(t.Code), MaxModelBytes))
	}
	if check := ex.app.cfg.CheckModel; check != nil {
		if err := check(t.Code); err != nil {
			return fail(tx.Errorf(tx.CodeInvalidModel, "%v", err))
		}
	}
	sum := sha256.Sum256(t.Code)
	old, err := kv.Get(ModelKey(sum[:]))
	if err != nil {
		return fail(err)
	}
	if old != nil {
		return fail(tx.Errorf(tx.CodeModelExists, "model %x already registered", sum))
	}
	if err := kv.Set(ModelKey(sum[:]), t.Code); err != nil {
		return fail(err)
	}
	return result{data: sum[:], events: []abci.Event{{Type: "register_model", Attributes: []abci.EventAttribute{
		{Key: "model", Value: hex.EncodeToString(sum[:]), Index: true},
		{Key: "bytes", Value: strconv.Itoa(len(t.Code))},
	}}}}
}

func (ex *execution) infer(kv state.KV, t *tx.Tx) result {
	out, err := ex.runModel(kv, t.ModelHash[:], t.Input)
	if err != nil {
		return fail(err)
	}
	if err := kv.Set(InferKey(ex.txHash), out); err != nil {
		return fail(err)
	}
	return result{data: out, events: []abci.Event{{Type: "infer", Attributes: []abci.EventAttribute{
		{Key: "model", Value: hex.EncodeToString(t.ModelHash[:]), Index: true},
		{Key: "output", Value: hex.EncodeToString(out)},
	}}}}
}

// runModel loads a registered model and runs it.
func (ex *execution) runModel(kv state.KV, hash, input []byte) ([]byte, error) {
	if len(hash) != tx.HashLen {
		return nil, tx.Errorf(tx.CodeUnknownModel, "model hash has %d bytes, want %d", len(hash), tx.HashLen)
	}
	model, err := kv.Get(ModelKey(hash))
	if err != nil {
		return nil, err
	}
	if model == nil {
		return nil, tx.Errorf(tx.CodeUnknownModel, "no model %x registered", hash)
	}
	if ex.app.cfg.Infer == nil {
		return nil, tx.Errorf(tx.CodeInferenceFailed, "this node has no inference engine")
	}
	out, err := ex.app.cfg.Infer(model, input)
	if err != nil {
		return nil, tx.Errorf(tx.CodeInferenceFailed, "model %x: %v", hash, err)
	}
	return out, nil
}
