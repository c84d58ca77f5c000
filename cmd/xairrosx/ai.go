package main

import aicli "github.com/xairrosx/xairrosx/ai/cli"

func init() {
	register("ai", "AI engine: eval, quantize, bench, inspect, test", aicli.Main)
}
