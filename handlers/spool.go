package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"ringback/sms"
)

// ErrSpoolClosed is returned by a spool whose directory this process has
// released: another process may own it now, so this one must neither add
// to it nor replay it.
var ErrSpoolClosed = errors.New("handlers: webhook spool is closed")

// ErrSpoolFull is returned when the spool holds its maximum size: the
// webhook is refused with 503 so that its sender retries later.
var ErrSpoolFull = errors.New("handlers: webhook spool is full")

// Spool is a directory of signed webhooks accepted while the store was
// unreachable, one fsync'd file each, named by a sequence number so they
// replay in the order they arrived. It survives a restart: what is on disk
// is replayed by the next process.
type Spool struct {
	dir string
	max int64 // bytes

	mu    sync.Mutex
	next  uint64
	files []spoolFile // oldest first
	bytes int64
	// keys counts the waiting webhooks by ordering key (orderKey); barriers
	// are those without one, which every later webhook waits behind.
	keys     map[string]int
	barriers int
	wake     chan struct{}
	lock     *os.File // held while open
	seat     *os.File // held for the process's life (HoldSeat)
	// closed is set once the lock is released: from then on another
	// process may replay these files and write new ones.
	closed bool
}

// Close releases the spool's directory for another process. A request
// still draining afterwards is refused (ErrSpoolClosed, so a 503 its
// sender retries) rather than written behind the new owner's back.
func (sp *Spool) Close() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return nil
	}
	sp.closed = true
	if sp.lock == nil {
		return nil
	}
	return sp.lock.Close()
}

type spoolFile struct {
	name string
	size int64
	key  string // orderKey of its webhook; "" orders it after everything before it
	// bounce: a receipt saying a text failed, which the next text to that
	// number must know of (it marks the number untextable).
	bounce bool
}

// orderKey names what a webhook must stay in order with: the caller (every
// event of a call, a caller's texts and both lines of one caller share it)
// or, for a text's receipt, the text. "" means unknown: the webhook keeps
// its place behind every other.
func orderKey(path string, body []byte) string {
	key, _ := classify(path, body)
	return key
}

// classify is a webhook's orderKey, and whether it is a text's receipt
// saying the text failed (bot.SMSReceipt.Failed).
func classify(path string, body []byte) (key string, bounce bool) {
	if path == "/calls" {
		var c struct {
			From string `json:"from"`
		}
		if json.Unmarshal(body, &c) != nil || c.From == "" {
			return "", false
		}
		return "caller:" + c.From, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", false
	}
	if path == "/twilio/sms/status" {
		r, _ := sms.ReadReceipt(form)
		if r.SID == "" {
			return "", false
		}
		return "sms:" + r.SID, r.Failed()
	}
	if from := form.Get("From"); from != "" {
		return "caller:" + from, false
	}
	return "", false
}

// countLocked adds n webhooks of key to the index.
func (sp *Spool) countLocked(key string, n int) {
	if key == "" {
		sp.barriers += n
		return
	}
	if sp.keys[key] += n; sp.keys[key] <= 0 {
		delete(sp.keys, key)
	}
}

// Holds reports whether the webhook to path with body must wait behind the
// spool: one of its own key (orderKey), or one of unknown key, is waiting
// (or being replayed). Any other goes straight through, so a long replay
// after an outage delays only the callers whose webhooks were spooled. An
// empty spool holds nothing, and reads no body.
func (sp *Spool) Holds(path string, body []byte) bool {
	sp.mu.Lock()
	empty := len(sp.files) == 0
	sp.mu.Unlock()
	if empty {
		return false
	}
	key := orderKey(path, body)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.files) > 0 && (key == "" || sp.barriers > 0 || sp.keys[key] > 0)
}

// SpooledRequest is one webhook as it arrived.
type SpooledRequest struct {
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	RawQuery   string      `json:"raw_query,omitempty"`
	Header     http.Header `json:"header"`
	Body       []byte      `json:"body"`
	ReceivedAt time.Time   `json:"received_at"`
}

// spoolHeaders are the request headers a replay needs.
var spoolHeaders = []string{"Content-Type", "X-Twilio-Signature", SignatureHeader}

// OpenSpool opens (creating it) the spool directory dir, bounded to
// maxBytes of webhooks, and finds what an earlier process left there.
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	if err := os.MkdirAll(filepath.Join(dir, "dead"), 0o700); err != nil {
		return nil, fmt.Errorf("handlers: spool %s: %w", dir, err)
	}
	lock, err := lockSpoolDir(dir)
	if err != nil {
		return nil, fmt.Errorf("handlers: spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("handlers: spool %s: %w", dir, err)
	}
	sp := &Spool{dir: dir, max: maxBytes, next: 1, wake: make(chan struct{}, 1), lock: lock, keys: map[string]int{}}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasPrefix(name, "tmp-"):
			_ = os.Remove(filepath.Join(dir, name)) // a write that never completed was never acknowledged
		case strings.HasSuffix(name, ".json"):
			seq, err := strconv.ParseUint(strings.TrimSuffix(name, ".json"), 10, 64)
			if err != nil {
				continue
			}
			info, err := e.Info()
			if err != nil {
				return nil, fmt.Errorf("handlers: spool %s: %w", dir, err)
			}
			f := spoolFile{name: name, size: info.Size()}
			if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				var req SpooledRequest
				if json.Unmarshal(data, &req) == nil {
					f.key, f.bounce = classify(req.Path, req.Body)
				}
			}
			sp.files = append(sp.files, f)
			sp.countLocked(f.key, 1)
			sp.bytes += info.Size()
			sp.next = max(sp.next, seq+1)
		}
	}
	sort.Slice(sp.files, func(i, j int) bool { return sp.files[i].name < sp.files[j].name })
	return sp, nil
}

// HoldSeat takes the lock on the spool directory's seat for the rest of
// the process's life (unlike the spool's own lock, Close does not release
// it, so it outlasts the outbox work of a shutdown) and reports whether it
// got it. The kernel releases it when the process ends, however it ends:
// holding it proves that no earlier process of this replica still runs.
// False where flock is missing.
func (sp *Spool) HoldSeat() bool {
	f, err := lockFile(filepath.Join(sp.dir, ".seat"))
	if err != nil || f == nil {
		return false
	}
	sp.mu.Lock()
	sp.seat = f
	sp.mu.Unlock()
	return true
}

// Dir is the spool's directory; "" for a nil spool (none).
func (sp *Spool) Dir() string {
	if sp == nil {
		return ""
	}
	return sp.dir
}

// Depth is how many webhooks wait to be replayed.
func (sp *Spool) Depth() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.files)
}

// Bytes is the spool's size on disk.
func (sp *Spool) Bytes() int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.bytes
}

// Append writes req durably (fsync of the file and of the directory) before
// it returns; only then may the webhook be acknowledged.
func (sp *Spool) Append(req SpooledRequest) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("handlers: spool: %w", err)
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return ErrSpoolClosed
	}
	if sp.bytes+int64(len(data)) > sp.max {
		return ErrSpoolFull
	}
	name, err := sp.publishLocked(data)
	if err != nil {
		return fmt.Errorf("handlers: spool: %w", err)
	}
	key, bounce := classify(req.Path, req.Body)
	sp.files = append(sp.files, spoolFile{name: name, size: int64(len(data)), key: key, bounce: bounce})
	sp.countLocked(key, 1)
	sp.bytes += int64(len(data))
	select {
	case sp.wake <- struct{}{}:
	default:
	}
	return nil
}

// publishLocked writes data as the next file, durably. The file appears
// whole (written aside, then linked in) and never replaces one already
// there: were the lock ever bypassed (a platform without flock), a second
// writer's webhook would take the next name, not overwrite this one.
func (sp *Spool) publishLocked(data []byte) (string, error) {
	for {
		name := fmt.Sprintf("%020d.json", sp.next)
		tmp := filepath.Join(sp.dir, "tmp-"+name)
		if err := writeSynced(tmp, data); err != nil {
			_ = os.Remove(tmp)
			return "", err
		}
		err := os.Link(tmp, filepath.Join(sp.dir, name))
		_ = os.Remove(tmp)
		sp.next++
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return name, syncDir(sp.dir)
	}
}

// waiting lists the webhooks waiting, oldest first (none once the spool
// is closed).
func (sp *Spool) waiting() []spoolFile {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return nil
	}
	return append([]spoolFile(nil), sp.files...)
}

// read returns the spooled webhook name.
func (sp *Spool) read(name string) (req SpooledRequest, err error) {
	data, err := os.ReadFile(filepath.Join(sp.dir, name))
	if err != nil {
		return req, fmt.Errorf("handlers: spool %s: %w", name, err)
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return req, fmt.Errorf("handlers: spool %s: %w", name, err)
	}
	return req, nil
}

// done removes the replayed webhook name; dead keeps it aside under dead/
// for an operator to look at instead.
func (sp *Spool) done(name string, dead bool) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return ErrSpoolClosed
	}
	path := filepath.Join(sp.dir, name)
	var err error
	if dead {
		err = os.Rename(path, filepath.Join(sp.dir, "dead", name))
	} else {
		err = os.Remove(path)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("handlers: spool %s: %w", name, err)
	}
	for i, f := range sp.files {
		if f.name == name {
			sp.bytes -= f.size
			sp.countLocked(f.key, -1)
			sp.files = append(sp.files[:i], sp.files[i+1:]...)
			break
		}
	}
	return syncDir(sp.dir)
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
