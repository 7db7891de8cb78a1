package twiliostandin

import (
	"net/http"
	"net/url"
	"strconv"
)

// listRequest admits a GET of one of the account's lists (only reading is
// part of the stand-in) and reads its paging; on a refusal it has written
// the error and ok is false.
func (s *Server) listRequest(w http.ResponseWriter, r *http.Request) (q url.Values, pageSize, page int, ok bool) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return nil, 0, 0, false
	}
	if !s.account(w, r) {
		return nil, 0, 0, false
	}
	q = r.URL.Query()
	pageSize, page, ok = pageQuery(w, q)
	return q, pageSize, page, ok
}

// pageQuery reads PageSize (50 by default, 1 to 1000) and Page (from 0) as
// every Twilio list does; on a bad value it has written the 400 and ok is false.
func pageQuery(w http.ResponseWriter, q url.Values) (pageSize, page int, ok bool) {
	pageSize = 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 20001, "PageSize must be between 1 and 1000")
			return 0, 0, false
		}
		pageSize = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Page must be a non-negative integer")
			return 0, 0, false
		}
		page = n
	}
	return pageSize, page, true
}

// pageJSON is the paging part every Twilio list page carries.
type pageJSON struct {
	End             int     `json:"end"`
	FirstPageURI    string  `json:"first_page_uri"`
	NextPageURI     *string `json:"next_page_uri"`
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	PreviousPageURI *string `json:"previous_page_uri"`
	Start           int     `json:"start"`
	URI             string  `json:"uri"`
}

// pageOf cuts page (of pageSize) out of match, rendering each item with
// resource, and the paging fields around it; the page URIs keep the request's
// filters, as Twilio's do. The items are never nil, so JSON shows [].
func pageOf[T, J any](r *http.Request, match []T, page, pageSize int, resource func(T) J) ([]J, pageJSON) {
	q := r.URL.Query()
	start := page * pageSize
	end := min(start+pageSize, len(match))
	items := []J{}
	if start < len(match) {
		for _, m := range match[start:end] {
			items = append(items, resource(m))
		}
	}
	pageURI := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "Page" && k != "PageToken" && k != "PageSize" {
				v[k] = vs
			}
		}
		v.Set("PageSize", strconv.Itoa(pageSize))
		v.Set("Page", strconv.Itoa(p))
		if p > 0 {
			v.Set("PageToken", "PA"+strconv.Itoa(p*pageSize))
		}
		return r.URL.Path + "?" + v.Encode()
	}
	meta := pageJSON{
		End:          max(start+len(items)-1, 0),
		FirstPageURI: pageURI(0),
		Page:         page,
		PageSize:     pageSize,
		Start:        start,
		URI:          pageURI(page),
	}
	if end < len(match) {
		u := pageURI(page + 1)
		meta.NextPageURI = &u
	}
	if page > 0 {
		u := pageURI(page - 1)
		meta.PreviousPageURI = &u
	}
	return items, meta
}
