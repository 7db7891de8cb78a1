package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"

	"ringback/config"
	"ringback/store"
)

// importContactsCmd loads a property-management system's contacts export:
//
//	ringback import contacts [flags] FILE.csv
func (a *app) importContactsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts [flags] FILE.csv",
		Short: "load the property-management contacts export",
		Long: `Loads a property-management system's contacts export (name, phones, kind,
property, unit), so cards name who is calling. Columns are detected from
the header; the flags name them when detection cannot.

Every row is written in one transaction, so a failure leaves nothing
half-imported; rows that cannot be used are reported by line and skipped.`,
		Example: `  ringback import contacts contacts.csv
  ringback import contacts --dry-run contacts.csv
  ringback import contacts --name-col "Full name" --phone-cols "Mobile,Home" --delimiter ";" export.csv`,
		Args: oneFile,
	}
	fs := cmd.Flags()
	var opts importOptions
	var phoneCols, delim string
	fs.StringVar(&opts.nameCol, "name-col", "", "header of the name column (default: detected)")
	fs.StringVar(&phoneCols, "phone-cols", "", "comma-separated headers of the phone columns (default: detected)")
	fs.StringVar(&opts.kindCol, "kind-col", "", "header of the kind column: tenant, owner, vendor, prospect")
	var kind string
	fs.StringVar(&kind, "kind", "", "kind of every row the file gives none (tenant, owner, vendor, prospect…); a row's own kind wins and is reported")
	fs.StringVar(&opts.propertyCol, "property-col", "", "header of the property column")
	fs.StringVar(&opts.unitCol, "unit-col", "", "header of the unit column")
	fs.StringVar(&delim, "delimiter", "", `field separator: "," ";" or "tab" (default: "," or ";" as the header shows)`)
	dryRun := fs.Bool("dry-run", false, "read and report, write nothing")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var err error
		if opts.kind, err = parseKind(kind); err != nil {
			return err
		}
		return a.importContacts(cmd.Context(), args[0], opts, phoneCols, delim, *dryRun)
	}
	return cmd
}

// importContacts imports the contacts file at path.
func (a *app) importContacts(ctx context.Context, path string, opts importOptions, phoneCols, delim string, dryRun bool) error {
	var err error
	if phoneCols != "" {
		for _, c := range strings.Split(phoneCols, ",") {
			if c = strings.TrimSpace(c); c != "" {
				opts.phoneCols = append(opts.phoneCols, c)
			}
		}
	}
	if opts.delimiter, err = parseDelimiter(delim); err != nil {
		return err
	}
	env, cfg, err := a.configured()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cli: read contacts: %w", err)
	}
	file, err := readContacts(data, opts, cfg.Business.Region)
	if err != nil {
		return fmt.Errorf("cli: %s: %w", filepath.Base(path), err)
	}

	res := importResult{skipped: file.skipped}
	exists, err := store.Exists(env.DatabaseURL)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	switch {
	case len(file.rows) == 0: // nothing to write: leave the database alone
	case dryRun && !exists:
		// Opening would create the database file: a dry run writes nothing.
		res, err = upsertRows(ctx, &memContacts{owner: map[string]int64{}}, file.rows)
		if err != nil {
			return err
		}
		res.skipped, res.noDatabase = file.skipped, true
	default:
		s, err := store.Open(ctx, env.DatabaseURL)
		if err != nil {
			return fmt.Errorf("cli: %w", err)
		}
		defer s.Close()
		if dryRun {
			res, err = dryRunContacts(ctx, s, file.rows)
		} else {
			res, err = importContacts(ctx, s, file.rows)
		}
		if err != nil {
			return err
		}
		res.skipped = file.skipped
	}
	a.reportImport(file, res, dryRun)
	if res.created+res.merged == 0 {
		return fmt.Errorf("cli: %s: nothing imported", filepath.Base(path))
	}
	return nil
}

func parseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "":
		return 0, nil // detect from the header
	case "tab", `\t`:
		return '\t', nil
	case "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, fmt.Errorf("cli: --delimiter %q: want one character such as \",\" \";\" or \"tab\"", s)
	}
	return r, nil
}

func (a *app) reportImport(file *contactFile, res importResult, dryRun bool) {
	verb := "imported"
	if dryRun {
		verb = "dry run, nothing written: would import"
		fmt.Fprintf(a.stdout, "columns: %s\n", file.cols.describe(file.headers))
	}
	conflicts := ""
	if len(res.conflicts) > 0 {
		conflicts = fmt.Sprintf("; %s not applied", plural(len(res.conflicts), "conflict", "conflicts"))
	}
	fmt.Fprintf(a.stdout, "%s %s: %s created, %d merged, %s skipped%s\n", verb,
		plural(res.created+res.merged, "row", "rows"), plural(res.created, "contact", "contacts"), res.merged, plural(res.skipped, "row", "rows"), conflicts)
	switch {
	case res.noDatabase:
		fmt.Fprintln(a.stdout, "note: the database does not exist yet, so counts assume it holds no contacts")
	case res.assumedEmpty:
		fmt.Fprintln(a.stdout, "note: the database is not migrated yet, so counts assume it holds no contacts")
	}
	if file.encoding != "" {
		fmt.Fprintf(a.stdout, "note: the file is not UTF-8; read it as %s\n", file.encoding)
	}
	for _, n := range file.notes {
		fmt.Fprintf(a.stdout, "line %d: %s\n", n.line, n.msg)
	}
	for _, n := range res.conflicts {
		fmt.Fprintf(a.stdout, "line %d: not applied: %s\n", n.line, n.msg)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// importOptions are the command's flags: column headers that override
// detection, and the field separator (0: detect).
type importOptions struct {
	nameCol, kindCol, propertyCol, unitCol string
	kind                                   string // --kind: for rows the file gives none
	phoneCols                              []string
	delimiter                              rune
}

// contactFile is an export read and checked, ready to be written.
type contactFile struct {
	headers  []string
	cols     columns
	rows     []contactRow
	notes    []rowNote // skipped and warned rows, in file order
	skipped  int
	encoding string // set when the file was not UTF-8
}

// contactRow is one usable row: a contact and its E.164 numbers.
type contactRow struct {
	line    int
	contact store.Contact
	numbers []string
}

type rowNote struct {
	line int
	msg  string
}

// readContacts parses a CSV export. It returns an error only for a file it
// cannot use at all; a bad row becomes a note.
func readContacts(data []byte, opts importOptions, region string) (*contactFile, error) {
	data, enc := decodeText(data)
	f := &contactFile{encoding: enc}
	r := csvReader(data, opts.delimiter)
	header, err := r.Read()
	if errors.Is(err, io.EOF) || (err == nil && allBlank(header)) {
		return nil, errors.New("no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	f.headers = header
	if f.cols, err = findColumns(header, opts); err != nil {
		return nil, err
	}
	// The last row each number appeared on, to warn when rows of different
	// names become one contact because they share a number.
	type seenAt struct {
		line int
		name string
	}
	seen := map[string]seenAt{}
	recs, err := readRecords(r)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		line := rec.line
		row, notes, ok := f.cols.row(rec.fields, region)
		for _, msg := range notes {
			f.notes = append(f.notes, rowNote{line, msg})
		}
		if !ok {
			f.skipped++
			continue
		}
		row.line = line
		if msg := applyKind(&row.contact, opts.kind); msg != "" {
			f.notes = append(f.notes, rowNote{line, msg})
		}
		warned := false
		for _, n := range row.numbers {
			if prev, dup := seen[n]; dup && !warned && !strings.EqualFold(prev.name, row.contact.Name) {
				f.notes = append(f.notes, rowNote{line, fmt.Sprintf("shares %s with line %d (%q): merged into one contact named %q", n, prev.line, prev.name, row.contact.Name)})
				warned = true
			}
			seen[n] = seenAt{line, row.contact.Name}
		}
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// decodeText returns data as UTF-8 without a byte-order mark, and the name of
// the encoding it was converted from: spreadsheet programs also save UTF-16
// ("Unicode text") and, on Windows, Windows-1252.
func decodeText(data []byte) ([]byte, string) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		out, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder().Bytes(data)
		if err == nil {
			return out, ""
		}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if utf8.Valid(data) {
		return data, ""
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return data, ""
	}
	return out, "Windows-1252"
}

// sniffDelimiter picks ';' (spreadsheets in locales with a decimal comma) or
// tab when the header line has no comma but has those.
func sniffDelimiter(data []byte) rune {
	header, _, _ := bytes.Cut(data, []byte("\n"))
	switch {
	case bytes.ContainsRune(header, ','):
		return ','
	case bytes.ContainsRune(header, ';'):
		return ';'
	case bytes.ContainsRune(header, '\t'):
		return '\t'
	}
	return ','
}

func allBlank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// columns are indexes into a record; -1 when absent.
type columns struct {
	name, first, last    int
	phones               []int
	kind, property, unit int
	notOwn               []int // phone-like headers left out on purpose
}

// Header synonyms, normalised by normHeader, best first.
var (
	nameHeaders     = []string{"name", "fullname", "contactname", "contact", "displayname"}
	firstHeaders    = []string{"firstname", "forename", "givenname", "first"}
	lastHeaders     = []string{"lastname", "surname", "familyname", "last"}
	kindHeaders     = []string{"kind", "contacttype", "type", "role", "contactkind", "contactrole"}
	propertyHeaders = []string{"property", "propertyname", "propertyaddress", "building", "buildingname", "address"}
	unitHeaders     = []string{"unit", "unitnumber", "unitno", "flat", "flatnumber", "flatno", "apartment", "apt", "aptno", "suite"}
	phoneWords      = []string{"phone", "mobile", "cell", "tel"}
	// Numbers that belong to someone else: a call from them is not a call
	// from this contact.
	notOwnPhone = []string{"emergency", "nextofkin", "guarantor", "fax"}
)

// normHeader makes "Phone_1", "phone 1" and "PHONE-1" the same: lower case,
// letters and digits only.
func normHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func findColumns(header []string, opts importOptions) (columns, error) {
	h := newHeaderSet(header)
	c := columns{name: -1, first: -1, last: -1, kind: -1, property: -1, unit: -1}
	byFlag, detect := h.byFlag, h.detect
	// Columns named by flags are taken first, so detection never claims them.
	if opts.nameCol != "" {
		c.name = byFlag("name-col", opts.nameCol)
	}
	if opts.kindCol != "" {
		c.kind = byFlag("kind-col", opts.kindCol)
	}
	if opts.propertyCol != "" {
		c.property = byFlag("property-col", opts.propertyCol)
	}
	if opts.unitCol != "" {
		c.unit = byFlag("unit-col", opts.unitCol)
	}
	for _, col := range opts.phoneCols {
		if i := byFlag("phone-cols", col); i >= 0 {
			c.phones = append(c.phones, i)
		}
	}
	if len(h.problems) > 0 {
		return c, fmt.Errorf("%s; the headers are %s", strings.Join(h.problems, "; "), quoteAll(header))
	}
	if opts.nameCol == "" {
		if c.name = detect(nameHeaders); c.name < 0 {
			c.first, c.last = detect(firstHeaders), detect(lastHeaders)
		}
	}
	if opts.kindCol == "" {
		c.kind = detect(kindHeaders)
	}
	if opts.propertyCol == "" {
		c.property = detect(propertyHeaders)
	}
	if opts.unitCol == "" {
		c.unit = detect(unitHeaders)
	}
	if len(opts.phoneCols) == 0 {
		for i, n := range h.norm {
			if h.used[i] || !containsAny(n, phoneWords) {
				continue
			}
			if containsAny(n, notOwnPhone) {
				c.notOwn = append(c.notOwn, i)
				continue
			}
			h.used[i] = true
			c.phones = append(c.phones, i)
		}
	}
	var missing, flags []string
	if c.name < 0 && c.first < 0 && c.last < 0 {
		missing, flags = append(missing, "name"), append(flags, "--name-col")
	}
	if len(c.phones) == 0 {
		missing, flags = append(missing, "phone"), append(flags, "--phone-cols")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("no %s column among the headers %s: name it with %s",
			strings.Join(missing, " or "), quoteAll(header), strings.Join(flags, " and "))
	}
	return c, nil
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// describe names the headers each field is read from, for --dry-run.
func (c columns) describe(header []string) string {
	h := func(i int) string {
		if i < 0 {
			return "-"
		}
		return fmt.Sprintf("%q", header[i])
	}
	name := h(c.name)
	if c.name < 0 {
		name = h(c.first) + " + " + h(c.last)
	}
	phones := make([]string, len(c.phones))
	for i, p := range c.phones {
		phones[i] = h(p)
	}
	s := fmt.Sprintf("name %s, phone %s, kind %s, property %s, unit %s",
		name, strings.Join(phones, " "), h(c.kind), h(c.property), h(c.unit))
	for _, i := range c.notOwn {
		s += fmt.Sprintf("; not %s (someone else's number; add it with --phone-cols)", h(i))
	}
	return s
}

// row reads one record. ok is false when the row is skipped; notes say why,
// or what was left out of a row that is kept.
func (c columns) row(rec []string, region string) (row contactRow, notes []string, ok bool) {
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.Join(strings.Fields(rec[i]), " ")
	}
	name := cell(c.name)
	if c.name < 0 {
		name = strings.TrimSpace(cell(c.first) + " " + cell(c.last))
	}
	row.contact = store.Contact{
		Name:     name,
		Kind:     normKind(cell(c.kind)),
		Property: cell(c.property),
		Unit:     cell(c.unit),
	}
	var bad []string
	have := map[string]bool{}
	for _, i := range c.phones {
		if i >= len(rec) || isPlaceholder(rec[i]) {
			continue
		}
		for _, raw := range splitNumbers(rec[i]) {
			n, err := config.Normalize(stripLabels(raw), region)
			if err != nil {
				bad = append(bad, raw)
				continue
			}
			if !have[n] {
				have[n] = true
				row.numbers = append(row.numbers, n)
			}
		}
	}
	switch {
	case len(row.numbers) == 0 && len(bad) == 0 && name == "":
		return row, []string{"no name or phone number"}, false
	case len(row.numbers) == 0 && len(bad) == 0:
		return row, []string{"no phone number"}, false
	case len(row.numbers) == 0:
		return row, []string{notPhones(bad)}, false
	case name == "":
		return row, []string{"no name"}, false
	}
	for _, b := range bad {
		notes = append(notes, fmt.Sprintf("%q is not a phone number (kept %s)", b, plural(len(row.numbers), "other", "others")))
	}
	return row, notes, true
}

func notPhones(bad []string) string {
	if len(bad) == 1 {
		return fmt.Sprintf("%q is not a phone number", bad[0])
	}
	return quoteAll(bad) + " are not phone numbers"
}

// isPlaceholder reports a cell that says "no number": "N/A", "none", "-".
func isPlaceholder(cell string) bool {
	switch normHeader(cell) {
	case "", "na", "none", "nil", "null", "unknown", "tbc", "tba":
		return true
	}
	return false
}

// numberSeparators split a cell holding several numbers:
// "07700 900001 / 020 7946 0001", "07700 900002 or 07700 900003".
var numberSeparators = regexp.MustCompile(`(?i)[;/,|\n]|\s+or\s+`)

func splitNumbers(cell string) []string {
	var out []string
	for _, p := range numberSeparators.Split(cell, -1) {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// labelInParens is a note such as "(mobile)" or "(work)"; "(01632)" is part
// of the number and stays.
var labelInParens = regexp.MustCompile(`\([^)]*\pL[^)]*\)`)

func stripLabels(raw string) string {
	return labelInParens.ReplaceAllString(raw, " ")
}

// kindSynonyms maps what property-management systems call people to the
// four kinds Ringback knows; keys are normalised by normHeader.
var kindSynonyms = map[string]string{
	"tenant": "tenant", "resident": "tenant", "renter": "tenant", "occupant": "tenant", "lessee": "tenant",
	"owner": "owner", "landlord": "owner", "propertyowner": "owner", "homeowner": "owner", "lessor": "owner",
	"vendor": "vendor", "contractor": "vendor", "subcontractor": "vendor", "supplier": "vendor", "tradesperson": "vendor",
	"prospect": "prospect", "applicant": "prospect", "lead": "prospect", "enquiry": "prospect", "inquiry": "prospect",
}

// normKind returns tenant, owner, vendor or prospect, or an unknown kind
// lower-cased ("guarantor").
func normKind(v string) string {
	v = strings.ToLower(strings.Join(strings.Fields(v), " "))
	n := normHeader(v)
	if k, ok := kindSynonyms[n]; ok {
		return k
	}
	if k, ok := kindSynonyms[strings.TrimSuffix(n, "s")]; ok { // "Tenants"
		return k
	}
	return v
}

// kindRE is a contact kind as ringback.yaml's contact_kinds names it.
var kindRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// parseKind reads --kind: a kind or one of its synonyms ("landlord" is an
// owner), "" when not given.
func parseKind(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	k := normKind(s)
	if !kindRE.MatchString(k) {
		return "", fmt.Errorf("cli: --kind %q: want one word such as tenant, owner, vendor or prospect", s)
	}
	return k, nil
}

// applyKind gives c the kind of --kind when the file gives it none; a row's
// own, different kind wins, and the note says so.
func applyKind(c *store.Contact, kind string) (note string) {
	switch {
	case kind == "" || c.Kind == kind:
	case c.Kind == "":
		c.Kind = kind
	default:
		return fmt.Sprintf("kind %q from the file kept (not --kind %s)", c.Kind, kind)
	}
	return ""
}

// contactUpserter is a store transaction, or an empty stand-in when a dry run
// meets a database that is not migrated (or not created) yet.
type contactUpserter interface {
	MergeContact(ctx context.Context, c store.Contact, numbers []string, start time.Time) (store.ContactMerge, error)
}

type importResult struct {
	created, merged, skipped int
	conflicts                []rowNote // what was not applied, by line
	assumedEmpty             bool      // dry run on an unmigrated database
	noDatabase               bool      // dry run where no database exists yet
}

func importContacts(ctx context.Context, s *store.Store, rows []contactRow) (importResult, error) {
	if err := s.Migrate(ctx); err != nil {
		return importResult{}, fmt.Errorf("cli: %w", err)
	}
	var res importResult
	err := s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		res, err = upsertRows(ctx, tx, rows)
		return err
	})
	return res, err
}

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("cli: dry run")

// dryRunContacts writes the rows in a transaction it then rolls back, so the
// counts are exact against the contacts already stored. It leaves the schema
// alone: a database not migrated yet is treated as empty.
func dryRunContacts(ctx context.Context, s *store.Store, rows []contactRow) (importResult, error) {
	cur, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return importResult{}, fmt.Errorf("cli: %w", err)
	}
	if cur > latest {
		return importResult{}, fmt.Errorf("cli: %w: schema version %d, this binary knows up to %d", store.ErrSchemaNewer, cur, latest)
	}
	if cur < latest {
		res, err := upsertRows(ctx, &memContacts{owner: map[string]int64{}}, rows)
		res.assumedEmpty = true
		return res, err
	}
	var res importResult
	err = s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if res, err = upsertRows(ctx, tx, rows); err != nil {
			return err
		}
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return res, err
	}
	return res, nil
}

func upsertRows(ctx context.Context, q contactUpserter, rows []contactRow) (importResult, error) {
	var res importResult
	now := time.Now()
	for _, r := range rows {
		m, err := q.MergeContact(ctx, r.contact, r.numbers, now)
		if err != nil {
			return importResult{}, fmt.Errorf("cli: import line %d: %w", r.line, err)
		}
		for _, c := range m.Conflicts {
			res.conflicts = append(res.conflicts, rowNote{r.line, c})
		}
		if m.Created {
			res.created++
		} else {
			res.merged++
		}
	}
	return res, nil
}

// memContacts follows UpsertContact's merge rule over numbers alone.
type memContacts struct {
	owner map[string]int64
	next  int64
}

func (m *memContacts) MergeContact(_ context.Context, _ store.Contact, numbers []string, _ time.Time) (store.ContactMerge, error) {
	var id int64
	for _, n := range numbers {
		if id = m.owner[n]; id != 0 {
			break
		}
	}
	created := id == 0
	if created {
		m.next++
		id = m.next
	}
	for _, n := range numbers {
		m.owner[n] = id
	}
	return store.ContactMerge{ID: id, Created: created}, nil
}
