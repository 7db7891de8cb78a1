package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is a measuring command's run: parse reads the flags (-h ends it with
// 0, a bad flag with 2, said on stderr under the command's name), then body
// measures under a context that SIGINT and SIGTERM cancel and gives the exit
// code.
func Main[O any](name string, args []string, stderr io.Writer, parse func([]string, io.Writer) (O, error), body func(context.Context, O) int) int {
	o, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return body(ctx, o)
}
