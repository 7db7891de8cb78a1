package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

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
