package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"ringback/config"
)

// configured reads the environment and the config file it names, as the
// commands that need the business's settings do.
func (a *app) configured() (config.Env, *config.Config, error) {
	env := config.EnvFrom(a.getenv)
	cfg, err := a.loadConfig(&env)
	if err != nil {
		return env, nil, fmt.Errorf("cli: %w", err)
	}
	return env, cfg, nil
}

// fileArg parses args (flags may stand after the file) and returns the one
// FILE that follows the words want, e.g. "contacts"; on anything else it
// prints the usage.
func fileArg(fs *flag.FlagSet, args []string, want ...string) (string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", errReported
	}
	if len(pos) != len(want)+1 || !slices.Equal(pos[:len(want)], want) {
		fs.Usage()
		return "", errReported
	}
	return pos[len(want)], nil
}

// csvReader reads an export's CSV as exports are written: separated by
// delimiter, or by what the header shows when it is 0, with ragged rows,
// loose quotes and spaces after the separators.
func csvReader(data []byte, delimiter rune) *csv.Reader {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delimiter
	if r.Comma == 0 {
		r.Comma = sniffDelimiter(data)
	}
	r.FieldsPerRecord = -1 // exports often drop trailing empty cells
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	return r
}

// record is a data row of an export and the line it starts on.
type record struct {
	line   int
	fields []string
}

// readRecords reads the rows after the header, skipping blank ones.
func readRecords(r *csv.Reader) ([]record, error) {
	var recs []record
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return nil, err // a csv.ParseError names the line
		}
		if allBlank(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, record{line, rec})
	}
}
