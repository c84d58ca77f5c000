// Package node embeds CometBFT v1 in the xairrosx process: it lays out node
// homes (config/, data/, keys/ as CometBFT does), generates single-node and
// N-validator loopback testnets, and runs a node whose ABCI application is
// chain/app through a local (in-process) client.
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	cmtflags "github.com/cometbft/cometbft/libs/cli/flags"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/spf13/viper"

	"github.com/cometbft/cometbft/types"
	"github.com/xairrosx/xairrosx/chain/app"
	"github.com/xairrosx/xairrosx/chain/state"
	"github.com/xairrosx/xairrosx/chain/vm"
)

// SettingsFile is the XairrosX-specific part of a node's configuration,
// next to CometBFT's config.toml.
const SettingsFile = "xairrosx.json"

// Settings are the application settings of a node.
type Settings struct {
	// SnapshotInterval: take a state-sync snapshot every N heights (0 = off).
	SnapshotInterval int64 `json:"snapshot_interval"`
	// SnapshotKeep: how many snapshots to keep.
	SnapshotKeep int `json:"snapshot_keep"`
	// VMCompiler: run contracts with wazero's compiler where available.
	VMCompiler bool `json:"vm_compiler"`
}

// DefaultSettings are written by init and testnet.
func DefaultSettings() Settings { return Settings{SnapshotInterval: 100, SnapshotKeep: 2} }

// VMConfig is the contract VM configuration every node of a chain uses:
// chain/vm's default limits (memory pages, call depth, code size), which
// are part of the protocol. Compiler only changes speed, not results.
func VMConfig(compiler bool) vm.Config {
	return vm.Config{Compiler: compiler}
}

// LoadConfig reads <home>/config/config.toml the way the cometbft command
// does (viper into cfg.Config) and validates it.
func LoadConfig(home string) (*cfg.Config, error) {
	conf := cfg.DefaultConfig()
	path := filepath.Join(home, "config", "config.toml")
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("node: read %s: %w", path, err)
	}
	if err := v.Unmarshal(conf); err != nil {
		return nil, fmt.Errorf("node: parse %s: %w", path, err)
	}
	conf.SetRoot(home)
	if err := conf.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("node: %s: %w", path, err)
	}
	return conf, nil
}

// LoadSettings reads <home>/config/xairrosx.json (defaults when absent).
func LoadSettings(home string) (Settings, error) {
	s := DefaultSettings()
	b, err := os.ReadFile(filepath.Join(home, "config", SettingsFile))
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("node: %s: %w", SettingsFile, err)
	}
	return s, nil
}

func saveSettings(home string, s Settings) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(filepath.Join(home, "config", SettingsFile), append(b, '\n'), 0o644)
}

// Run starts the node in home and blocks until ctx is cancelled, then stops
// it cleanly. infer backs on-chain inference (nil: inference transactions
// fail with CodeInferenceFailed) and checkModel validates registered models
// (nil: any bytes up to the size limit). Logs go to logOut.
func Run(ctx context.Context, home string, infer app.InferFunc, checkModel func([]byte) error, logOut io.Writer) error {
	conf, err := LoadConfig(home)
	if err != nil {
		return err
	}
	settings, err := LoadSettings(home)
	if err != nil {
		return err
	}
	logger, err := cmtflags.ParseLogLevel(conf.LogLevel, cmtlog.NewTMLogger(cmtlog.NewSyncWriter(logOut)), cfg.DefaultLogLevel)
	if err != nil {
		return fmt.Errorf("node: log_level: %w", err)
	}
	gen, err := types.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	store, err := state.Open(conf.DBDir())
	if err != nil {
		return err
	}
	defer store.Close()
	application, err := app.New(store, app.Config{
		ChainID:          gen.ChainID,
		SnapshotDir:      filepath.Join(conf.DBDir(), "snapshots"),
		SnapshotInterval: settings.SnapshotInterval,
		SnapshotKeep:     settings.SnapshotKeep,
		VM:               VMConfig(settings.VMCompiler),
		Infer:            infer,
		CheckModel:       checkModel,
		Logger:           logger.With("module", "xairrosx"),
	})
	if err != nil {
		return err
	}
	defer application.Close()
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	pv := privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	n, err := cmtnode.NewNode(ctx, conf, pv, nodeKey,
		proxy.NewLocalClientCreator(application),
		cmtnode.DefaultGenesisDocProviderFunc(conf),
		cfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(conf.Instrumentation),
		logger)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if err := n.Start(); err != nil {
		return fmt.Errorf("node: start: %w", err)
	}
	<-ctx.Done()
	if err := n.Stop(); err != nil {
		return fmt.Errorf("node: stop: %w", err)
	}
	n.Wait()
	return nil
}

// fastConsensus sets short timeouts for loopback testnets and tests, like
// CometBFT's TestConsensusConfig but with a pause between blocks so that N
// nodes on a few cores do not spin.
func fastConsensus(c *cfg.ConsensusConfig, blockPause time.Duration) {
	c.TimeoutPropose = 400 * time.Millisecond
	c.TimeoutProposeDelta = 100 * time.Millisecond
	c.TimeoutPrevote = 200 * time.Millisecond
	c.TimeoutPrevoteDelta = 100 * time.Millisecond
	c.TimeoutPrecommit = 200 * time.Millisecond
	c.TimeoutPrecommitDelta = 100 * time.Millisecond
	c.TimeoutCommit = blockPause
	c.PeerGossipSleepDuration = 10 * time.Millisecond
}
