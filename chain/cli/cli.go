// Package cli implements the chain's command-line interface: `xairrosx
// chain init|start|testnet`, `xairrosx keys`, `xairrosx tx` and `xairrosx
// query`. cmd/xairrosx registers these entry points.
package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/node"
)

// Infer backs on-chain inference in `chain start`; cmd/xairrosx sets it to
// ai/infer.RunInt8 when the AI engine is linked in. Nil means inference
// transactions fail with code 13 (inference failed).
var Infer app.InferFunc

// CheckModel validates model bytes at registration (ai/infer.Inspect when
// the AI engine is linked in); nil accepts any bytes up to the size limit.
var CheckModel func(model []byte) error

// Stdout and Stderr are where commands write (tests replace them).
var (
	Stdout io.Writer = os.Stdout
	Stderr io.Writer = os.Stderr
)

// DefaultHome is ~/.xairrosx, like CometBFT's ~/.cometbft.
func DefaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".xairrosx")
	}
	return ".xairrosx"
}

func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(Stderr)
	home := fs.String("home", DefaultHome(), "node/keyring directory")
	return fs, home
}

func errorf(format string, args ...any) int {
	fmt.Fprintf(Stderr, "xairrosx: "+format+"\n", args...)
	return 1
}

// subcommand dispatches args[0] among cmds.
func subcommand(group string, args []string, cmds map[string]func([]string) int, help string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" || args[0] == "--help" {
		fmt.Fprintf(Stderr, "usage: xairrosx %s %s\n", group, help)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(Stderr, "xairrosx %s: unknown subcommand %q\nusage: xairrosx %s %s\n", group, args[0], group, help)
		return 2
	}
	return c(args[1:])
}

// Chain is `xairrosx chain`.
func Chain(args []string) int {
	return subcommand("chain", args, map[string]func([]string) int{
		"init": chainInit, "start": chainStart, "testnet": chainTestnet,
	}, "init|start|testnet [flags]")
}

func nodeFlags(fs *flag.FlagSet, o *node.Options) (snap *int64) {
	fs.StringVar(&o.ChainID, "chain-id", "xairrosx-devnet", "chain id")
	fs.BoolVar(&o.Fast, "fast", false, "short consensus timeouts (tests, loopback testnets)")
	fs.DurationVar(&o.BlockPause, "block-pause", 200*time.Millisecond, "pause between blocks with --fast (timeout_commit)")
	fs.BoolVar(&o.Settings.VMCompiler, "vm-compiler", false, "run contracts with wazero's compiler where available")
	fs.IntVar(&o.Settings.SnapshotKeep, "snapshot-keep", 2, "state-sync snapshots to keep")
	snap = fs.Int64("snapshot-interval", 100, "take a state-sync snapshot every N heights (0 = off)")
	return snap
}

func chainInit(args []string) int {
	fs, home := newFlags("chain init")
	var o node.Options
	snap := nodeFlags(fs, &o)
	fs.StringVar(&o.Moniker, "moniker", "node", "node name")
	fs.IntVar(&o.P2PPort, "p2p-port", node.DefaultP2PPort, "P2P port")
	fs.IntVar(&o.RPCPort, "rpc-port", node.DefaultRPCPort, "RPC port")
	fs.BoolVar(&o.Loopback, "loopback", false, "listen on 127.0.0.1 only")
	fs.StringVar(&o.PersistentPeers, "peers", "", "persistent peers id@host:port,...")
	genesis := fs.String("genesis", "", "join an existing chain: copy this genesis.json")
	faucet := fs.Uint64("faucet-balance", 1_000_000_000_000, "balance of the faucet key in a new genesis")
	ssRPC := fs.String("statesync-rpc", "", "state sync from these RPC servers (two, comma-separated)")
	fs.Int64Var(&o.TrustHeight, "trust-height", 0, "state sync: trusted height")
	fs.StringVar(&o.TrustHash, "trust-hash", "", "state sync: trusted block hash (hex)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Settings.SnapshotInterval = *snap
	if *ssRPC != "" {
		o.StateSyncRPC = strings.Split(*ssRPC, ",")
	}
	h, err := node.Init(*home, o, *genesis, *faucet)
	if err != nil {
		return errorf("chain init: %v", err)
	}
	fmt.Fprintf(Stdout, "initialised %s\nnode id %s\np2p %s\nrpc %s\n", h.Dir, h.NodeID, h.P2P, h.RPC)
	return 0
}

func chainTestnet(args []string) int {
	fs := flag.NewFlagSet("chain testnet", flag.ContinueOnError)
	fs.SetOutput(Stderr)
	var o node.Options
	snap := nodeFlags(fs, &o)
	n := fs.Int("n", 4, "number of validators")
	out := fs.String("output", "./testnet", "directory for node0..nodeN-1")
	base := fs.Int("base-port", node.DefaultP2PPort, "node i uses P2P base+10i and RPC base+10i+1")
	faucet := fs.Uint64("faucet-balance", 1_000_000_000_000, "balance of the shared faucet key")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Settings.SnapshotInterval = *snap
	homes, err := node.Testnet(*out, *n, o, *base, *faucet)
	if err != nil {
		return errorf("chain testnet: %v", err)
	}
	for _, h := range homes {
		fmt.Fprintf(Stdout, "%s id=%s p2p=%s rpc=%s\n", h.Dir, h.NodeID, h.P2P, h.RPC)
	}
	return 0
}

func chainStart(args []string) int {
	fs, home := newFlags("chain start")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := node.Run(ctx, *home, Infer, CheckModel, Stdout); err != nil {
		return errorf("chain start: %v", err)
	}
	return 0
}

func printJSON(v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(Stdout, string(b))
}

// hexArg decodes a hex flag value, naming the flag on error.
func hexArg(name, v string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
	if err != nil {
		return nil, fmt.Errorf("--%s: not hex: %v", name, err)
	}
	return b, nil
}

// parse parses flags that may come before, between or after positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
