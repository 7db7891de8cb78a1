package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ringback/store"
	"ringback/store/storetest"
)

func countContacts(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.DB().Get(&n, `SELECT COUNT(*) FROM contacts`); err != nil {
		t.Fatal(err)
	}
	return n
}

func writeCSV(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type wantContact struct {
	name, kind, property, unit string
}

func checkContacts(t *testing.T, s *store.Store, want map[string]wantContact) {
	t.Helper()
	ctx := context.Background()
	for number, w := range want {
		c, err := s.ContactByNumber(ctx, number)
		if err != nil {
			t.Errorf("%s: %v", number, err)
			continue
		}
		if got := (wantContact{c.Name, c.Kind, c.Property, c.Unit}); got != w {
			t.Errorf("%s: got %+v, want %+v", number, got, w)
		}
	}
}

const exportSummary = "imported 10 rows: 9 contacts created, 1 merged, 3 rows skipped"

var exportNotes = []string{
	`line 8: "12345" is not a phone number (kept 1 other)`,
	`line 9: no phone number`,
	`line 10: "12345" is not a phone number`,
	`line 13: no name`,
}

func TestImportContactsExport(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		code, out, errOut := runCLI(t, url, nil, "import", "contacts", filepath.Join("testdata", "contacts.csv"))
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		want := append([]string{exportSummary}, exportNotes...)
		if got := strings.Split(strings.TrimSpace(out), "\n"); !reflect.DeepEqual(got, want) {
			t.Fatalf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		s := storetest.Open(t, url)
		ctx := context.Background()
		alice := wantContact{"Alice Smith", "tenant", "14 High Street", "Flat 9"} // the later row wins
		checkContacts(t, s, map[string]wantContact{
			"+447700900001": alice,
			"+442079460001": alice,
			"+447700900011": alice,
			"+447700900002": {"Bob Jones", "tenant", "12 High Street", "Flat 2"},
			"+447700900003": {"Bob Jones", "tenant", "12 High Street", "Flat 2"},
			"+447700900004": {"Carol White", "owner", "12 High Street", ""},
			"+441632960004": {"Carol White", "owner", "12 High Street", ""},
			"+447700900005": {"Dan's Plumbing, Heating & Gas", "vendor", "", ""},
			"+441614960006": {"Spark Electrical Ltd", "vendor", "", ""},
			"+447700900006": {"Spark Electrical Ltd", "vendor", "", ""},
			"+447700900123": {"Eve Brown", "prospect", "", ""},
			"+447700900007": {"Frank Green", "tenant", "8 Mill Lane", "Apt 3"},
			"+447700900008": {"Ian Jack", "guarantor", "12 High Street", "Flat 2"},
			"+15551234567":  {"Jo Kent", "owner", "Flat 5, 3 Park Road", "Flat 5"},
		})
		a, err := s.ContactByNumber(ctx, "+447700900001")
		if err != nil {
			t.Fatal(err)
		}
		nums, err := s.ContactNumbers(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"+442079460001", "+447700900001", "+447700900011"}; !reflect.DeepEqual(nums, want) {
			t.Errorf("Alice's numbers = %v, want %v", nums, want)
		}
		// Skipped rows and other people's numbers (the emergency contact
		// column) are not stored.
		for _, n := range []string{"+447700900901", "+447700900902", "+447700900099"} {
			if c, err := s.ContactByNumber(ctx, n); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: got %+v, %v; want not found", n, c, err)
			}
		}
		if n := countContacts(t, s); n != 9 {
			t.Errorf("%d contacts, want 9", n)
		}

		// Importing the same file again changes nothing.
		code, out, errOut = runCLI(t, url, nil, "import", "contacts", filepath.Join("testdata", "contacts.csv"))
		if code != 0 {
			t.Fatalf("re-import: exit %d\n%s%s", code, out, errOut)
		}
		if first := strings.SplitN(out, "\n", 2)[0]; first != "imported 10 rows: 0 contacts created, 10 merged, 3 rows skipped" {
			t.Errorf("re-import summary = %q", first)
		}
		if n := countContacts(t, s); n != 9 {
			t.Errorf("after re-import: %d contacts, want 9", n)
		}
		checkContacts(t, s, map[string]wantContact{"+447700900001": alice})
	})
}

func TestImportContactsSemicolonBOMFirstLastNames(t *testing.T) {
	csv := "\ufeffFirst Name;Last Name;Mobile;Tel. Home;Role;Building;Apt\r\n" +
		"Zoë;Ålund;07700 900201;;Tenant;Riverside Court;12\r\n" +
		"Marc;Dupont;+33 6 12 34 56 78;01632 960202;Landlord;Riverside Court;\r\n" +
		"Priya;Patel;07700 900203 or 07700 900204;;Contractors;;\r\n"
	path := writeCSV(t, csv)
	storetest.EachURL(t, func(t *testing.T, url string) {
		code, out, errOut := runCLI(t, url, nil, "import", "contacts", path)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if want := "imported 3 rows: 3 contacts created, 0 merged, 0 rows skipped\n"; out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
		s := storetest.Open(t, url)
		checkContacts(t, s, map[string]wantContact{
			"+447700900201": {"Zoë Ålund", "tenant", "Riverside Court", "12"},
			"+33612345678":  {"Marc Dupont", "owner", "Riverside Court", ""},
			"+441632960202": {"Marc Dupont", "owner", "Riverside Court", ""},
			"+447700900203": {"Priya Patel", "vendor", "", ""},
			"+447700900204": {"Priya Patel", "vendor", "", ""},
		})
	})
}

func TestImportContactsUnknownHeaders(t *testing.T) {
	url := storetest.URL(t, "sqlite")
	path := writeCSV(t, "Who,Digits,Where\nAlice,07700 900001,Flat 1\n")
	code, out, errOut := runCLI(t, url, nil, "import", "contacts", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"ringback import contacts: export.csv: no name or phone column", `"Who", "Digits", "Where"`, "--name-col", "--phone-cols"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// The flags name the columns instead.
	code, out, errOut = runCLI(t, url, nil, "import", "contacts", "--name-col", "who", "--phone-cols", "DIGITS", "--unit-col=where", path)
	if code != 0 || !strings.HasPrefix(out, "imported 1 row: 1 contact created") {
		t.Fatalf("with flags: exit %d\n%s%s", code, out, errOut)
	}
	checkContacts(t, storetest.Open(t, url), map[string]wantContact{"+447700900001": {"Alice", "", "", "Flat 1"}})

	// A flag naming a header that is not there lists the headers too.
	code, _, errOut = runCLI(t, url, nil, "import", "contacts", "--phone-cols", "Digits,Fax", path)
	if code != 1 || !strings.Contains(errOut, `--phone-cols "Fax" matches no header`) || !strings.Contains(errOut, `"Who", "Digits", "Where"`) {
		t.Errorf("unknown --phone-cols: exit %d\n%s", code, errOut)
	}
}

func TestImportContactsDryRun(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		url := storetest.URL(t, backend)

		// Before any migration: the file is checked, the schema left alone.
		code, out, errOut := runCLI(t, url, nil, "import", "contacts", "--dry-run", filepath.Join("testdata", "contacts.csv"))
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		// An SQLite file is not even created; a PostgreSQL database is
		// left unmigrated.
		note := "note: the database is not migrated yet"
		if backend == "sqlite" {
			note = "note: the database does not exist yet"
			if _, err := os.Stat(strings.TrimPrefix(url, "sqlite:")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a dry run created the database file: %v", err)
			}
		}
		for _, want := range append([]string{
			`columns: name "Contact Name", phone "Phone" "Work Phone", kind "Contact Type", property "Property", unit "Unit"; not "Emergency Contact Phone"`,
			"\ndry run, nothing written: would import 10 rows: 9 contacts created, 1 merged, 3 rows skipped\n",
			note,
		}, exportNotes...) {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		s := storetest.Open(t, url)
		if cur, _, err := s.SchemaVersion(ctx); err != nil || cur != 0 {
			t.Fatalf("schema version %d, %v after a dry run; want 0", cur, err)
		}

		// On a database with contacts: exact counts, nothing written.
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		path := writeCSV(t, "Name,Phone\nAlice Smith,07700 900001\nNew Person,07700 900555\n")
		if code, out, errOut := runCLI(t, url, nil, "import", "contacts", path); code != 0 {
			t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
		}
		// The flag may follow the file name.
		code, out, errOut = runCLI(t, url, nil, "import", "contacts", filepath.Join("testdata", "contacts.csv"), "--dry-run")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "\ndry run, nothing written: would import 10 rows: 8 contacts created, 2 merged, 3 rows skipped\n") || strings.Contains(out, "not migrated") {
			t.Errorf("output:\n%s", out)
		}
		if n := countContacts(t, s); n != 2 {
			t.Errorf("%d contacts after a dry run, want 2", n)
		}
		checkContacts(t, s, map[string]wantContact{"+447700900001": {"Alice Smith", "", "", ""}})
		if _, err := s.ContactByNumber(ctx, "+447700900123"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("dry run wrote a contact: %v", err)
		}
	})
}

// failedImport is a file an import refuses, with what it says on stderr.
type failedImport struct {
	path, stderr string
}

// checkNothingImported runs `ringback import kind` on a fresh database with
// a missing file, an empty one, one of only header and each of files, and
// wants each to fail (exit 1) saying so; it returns the database's URL.
func checkNothingImported(t *testing.T, kind, header string, files map[string]failedImport) string {
	t.Helper()
	url := storetest.URL(t, "sqlite")
	files["missing file"] = failedImport{filepath.Join(t.TempDir(), "nope.csv"), "ringback import " + kind + ": read " + kind + ": open "}
	files["empty file"] = failedImport{writeCSV(t, ""), "ringback import " + kind + ": export.csv: no header row"}
	files["header only"] = failedImport{writeCSV(t, header), "ringback import " + kind + ": export.csv: nothing imported"}
	for name, tc := range files {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, url, nil, "import", kind, tc.path)
			if code != 1 || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want 1, %q\nstdout:\n%s", code, errOut, tc.stderr, out)
			}
		})
	}
	return url
}

func TestImportContactsNothingToImport(t *testing.T) {
	url := checkNothingImported(t, "contacts", "Name,Phone\n", map[string]failedImport{
		"every row bad": {writeCSV(t, "Name,Phone\nA,123\nB,\n"), "ringback import contacts: export.csv: nothing imported"},
	})
	if code, _, errOut := runCLI(t, url, nil, "import", "people", "x.csv"); code != ExitUsage || !strings.Contains(errOut, `ringback import: unknown command "people"`) {
		t.Errorf("import people: exit %d\n%s", code, errOut)
	}
}

// Rows of different names merged through a shared number are pointed out;
// a Windows-1252 export is read as such.
func TestReadContactsWarnings(t *testing.T) {
	data := []byte("Name,Phone,Type\nJos\xe9 Garc\xeda,07700 900301,tenants\nMaria Garcia,07700 900301 / 07700 900302,Prospective Buyer\n")
	f, err := readContacts(data, importOptions{}, "GB")
	if err != nil {
		t.Fatal(err)
	}
	if f.encoding != "Windows-1252" {
		t.Errorf("encoding = %q", f.encoding)
	}
	if len(f.rows) != 2 || f.rows[0].contact.Name != "José García" || f.rows[0].contact.Kind != "tenant" || f.rows[1].contact.Kind != "prospective buyer" {
		t.Fatalf("rows = %+v", f.rows)
	}
	want := []rowNote{{3, `shares +447700900301 with line 2 ("José García"): merged into one contact named "Maria Garcia"`}}
	if !reflect.DeepEqual(f.notes, want) {
		t.Errorf("notes = %+v, want %+v", f.notes, want)
	}
}

func TestFindColumns(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   string
	}{
		{[]string{"Full_Name", "PHONE 1", "phone-2", "Role", "Address", "Flat"}, `name "Full_Name", phone "PHONE 1" "phone-2", kind "Role", property "Address", unit "Flat"`},
		{[]string{"Contact", "Cell", "Telephone", "Kind", "Building", "Apartment", "Property"}, `name "Contact", phone "Cell" "Telephone", kind "Kind", property "Property", unit "Apartment"`},
		{[]string{"surname", "forename", "home phone", "work_phone", "Type", "unit"}, `name "forename" + "surname", phone "home phone" "work_phone", kind "Type", property -, unit "unit"`},
	} {
		c, err := findColumns(tc.header, importOptions{})
		if err != nil {
			t.Errorf("%q: %v", tc.header, err)
			continue
		}
		if got := c.describe(tc.header); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.header, got, tc.want)
		}
	}
}

func TestSplitNumbers(t *testing.T) {
	got := splitNumbers("07700 900001; 020 7946 0001/01632 960001, +44 7700 900002 OR 07700  900003")
	want := []string{"07700 900001", "020 7946 0001", "01632 960001", "+44 7700 900002", "07700 900003"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A row the database refuses half-way through leaves no row of the file stored.
func TestImportContactsAllOrNothing(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		url := storetest.URL(t, backend)
		s := storetest.Migrated(t, url)
		refuse := []string{`CREATE TRIGGER refuse_boom BEFORE INSERT ON contacts
			WHEN NEW.name = 'Boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`}
		if backend == "postgres" {
			refuse = []string{
				`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.name = 'Boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER refuse_boom BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
			}
		}
		for _, q := range refuse {
			if _, err := s.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		path := writeCSV(t, "Name,Phone\nAlice,07700 900001\nBob,07700 900002\nBoom,07700 900003\nCarol,07700 900004\n")
		code, out, errOut := runCLI(t, url, nil, "import", "contacts", path)
		if code != 1 || !strings.Contains(errOut, "ringback import contacts: import line 4: insert contact: ") || !strings.Contains(errOut, "boom refused") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		if n := countContacts(t, s); n != 0 {
			t.Errorf("%d contacts stored after a failed import, want 0", n)
		}
	})
}

// --kind gives rows without a kind one; a row's own kind wins and is
// reported; a kind that is not one word is refused.
func TestImportContactsKindFlag(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		path := writeCSV(t, "Name,Phone,Type\nAcme Plumbing,07700 900001,\nJane Smith,07700 900002,Tenant\n")
		code, out, errOut := runCLI(t, url, nil, "import", "contacts", "--kind", "Contractors", path)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, `line 3: kind "tenant" from the file kept (not --kind vendor)`) {
			t.Errorf("output:\n%s", out)
		}
		checkContacts(t, storetest.Open(t, url), map[string]wantContact{
			"+447700900001": {"Acme Plumbing", "vendor", "", ""},
			"+447700900002": {"Jane Smith", "tenant", "", ""},
		})
		if code, _, errOut := runCLI(t, url, nil, "import", "contacts", "--kind", "flat 2", path); code != 1 || !strings.Contains(errOut, `--kind "flat 2"`) {
			t.Errorf("--kind with two words: exit %d, %s", code, errOut)
		}
	})
}

// An import that would rename a known contact or take their number reports
// it and leaves them as they were; a dry run reports the same.
func TestImportContactsReportsRenames(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		first := writeCSV(t, "Name,Phone\nAlice Smith,07700 900001\nBob Jones,07700 900002\n")
		if code, out, errOut := runCLI(t, url, nil, "import", "contacts", first); code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		second := writeCSV(t, "Name,Phone,Mobile\nAlicia Smith,07700 900001,07700 900002\n")
		want := []string{
			"2 conflicts not applied",
			`line 2: not applied: contact "Alice Smith" (+447700900001) not renamed to "Alicia Smith"`,
			`line 2: not applied: +447700900002 belongs to "Bob Jones": left with them`,
		}
		for _, args := range [][]string{{"--dry-run", second}, {second}} {
			code, out, errOut := runCLI(t, url, nil, append([]string{"import", "contacts"}, args...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("%v: output lacks %q:\n%s", args, w, out)
				}
			}
		}
		checkContacts(t, storetest.Open(t, url), map[string]wantContact{
			"+447700900001": {"Alice Smith", "", "", ""},
			"+447700900002": {"Bob Jones", "", "", ""},
		})
	})
}
