// Package trim cuts from a remote API's answers what Ringback never reads,
// before the API's client library decodes them: a library refuses a whole
// answer holding a kind of element newer than itself, though the remote
// did what was asked.
package trim

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// maxTrimmed is the largest answer read to trim; a larger one goes to the
// library as it came.
const maxTrimmed = 8 << 20

// Transport passes each request to Next and hands a successful answer's
// body to the cut For names for the request, if any; a cut that reports
// false leaves the body as it came.
type Transport struct {
	Next http.RoundTripper
	For  func(*http.Request) func(body []byte) ([]byte, bool)
}

func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.Next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	cut := t.For(req)
	if cut == nil {
		return resp, nil
	}
	orig := resp.Body
	body, err := io.ReadAll(io.LimitReader(orig, maxTrimmed+1))
	if err != nil {
		orig.Close()
		return nil, err
	}
	if len(body) > maxTrimmed {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), orig), orig}
		return resp, nil
	}
	orig.Close()
	if trimmed, ok := cut(body); ok {
		body = trimmed
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}
