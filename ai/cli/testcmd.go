package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xairrosx/xairrosx/ai/backendtest"
)

func cmdTest(args []string, stdout io.Writer) (bool, error) {
	if len(args) != 1 {
		return false, errors.New("usage: xairrosx ai test DIR")
	}
	res, err := backendtest.Run(args[0])
	if err != nil {
		fmt.Fprintf(stdout, "FAIL %s: %v\n", args[0], err)
		return false, nil
	}
	for _, o := range res.Outputs {
		status := "ok"
		if !o.OK {
			status = strings.TrimSpace("MISMATCH " + o.Msg)
		}
		fmt.Fprintf(stdout, "%s %-20s max abs error %.3g  %s\n", o.DataSet, o.Name, o.MaxAbs, status)
	}
	if res.Pass {
		fmt.Fprintf(stdout, "PASS %s (tolerance %g relative, %g absolute)\n", args[0], backendtest.RTol, backendtest.ATol)
	} else {
		fmt.Fprintf(stdout, "FAIL %s (tolerance %g relative, %g absolute)\n", args[0], backendtest.RTol, backendtest.ATol)
	}
	return res.Pass, nil
}
