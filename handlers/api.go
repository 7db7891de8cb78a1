package handlers

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
)

// The read API (/api/v1): cases, one case's timeline and the weekly KPIs as
// JSON, for reporting and systems of record. Requests carry a bearer token
// an operator made with `ringback tokens create`; openapi.json describes
// every route and is served as it is checked in.

//go:embed openapi.json
var openAPIDocument []byte

// APITokenPrefix starts every read-API token, so a leaked one is easy to
// recognise (and to search for in logs and repositories).
const APITokenPrefix = "rbk_"

// HashAPIToken is how a token is kept in the store: hex SHA-256. Tokens are
// 256 random bits, so a fast hash is enough.
func HashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

type api struct {
	bot   *bot.Bot
	cfg   *config.Config
	store *store.Store
	log   *slog.Logger
}

// MountAPI adds the read API.
func (s *Server) MountAPI(b *bot.Bot, cfg *config.Config) {
	s.api = &api{bot: b, cfg: cfg, store: s.store, log: s.log}
	s.mount(partAPI)
}

// apiError is every error body: {"error": {"code": …, "message": …}}.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func apiJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// authorized runs h when the request's bearer token is active and its scope
// reaches need; h learns whether the token may see callers' numbers.
func (a *api) authorized(need string, h func(w http.ResponseWriter, r *http.Request, numbers bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(token, APITokenPrefix) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback"`)
			apiError(w, http.StatusUnauthorized, "unauthorized", "send a token from `ringback tokens create` as Authorization: Bearer …")
			return
		}
		t, err := a.store.ActiveAPIToken(r.Context(), HashAPIToken(strings.TrimSpace(token)))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback", error="invalid_token"`)
			apiError(w, http.StatusUnauthorized, "unauthorized", "the token is unknown or revoked")
			return
		}
		if err != nil {
			a.log.Error("api: token lookup failed", "error", err)
			apiError(w, http.StatusServiceUnavailable, "unavailable", "the store is unavailable; try again")
			return
		}
		have := slices.Index(store.APIScopes, t.Scope)
		if have < slices.Index(store.APIScopes, need) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback", error="insufficient_scope", scope="`+need+`"`)
			apiError(w, http.StatusForbidden, "insufficient_scope", "this token's scope is "+t.Scope+"; this needs "+need)
			return
		}
		h(w, r, t.Scope == store.ScopeReadNumbers)
	})
}

func (a *api) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
}

// cursor is opaque to clients: the last case id of the page, encoded.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c" + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(b) > 1 && b[0] == 'c' {
		if id, err := strconv.ParseInt(string(b[1:]), 10, 64); err == nil && id >= 0 {
			return id, nil
		}
	}
	return 0, errors.New("cursor is not one this API gave")
}

// caseQuery reads the list filters; a message for the caller when one is wrong.
func (a *api) caseQuery(r *http.Request) (bot.CaseQuery, string) {
	v := r.URL.Query()
	q := bot.CaseQuery{State: v.Get("state"), Category: v.Get("category"), Owner: v.Get("owner")}
	if q.State != "" && !slices.Contains([]string{store.CaseOpen, store.CaseClaimed, store.CaseClosed}, q.State) {
		return q, "state must be open, claimed or closed"
	}
	if name := v.Get("line"); name != "" {
		if l, ok := a.cfg.LineByName(name); ok {
			q.Line = l.Number
		} else if l, ok := a.cfg.LineByNumber(name); ok {
			q.Line = l.Number
		} else {
			return q, fmt.Sprintf("no line called %q", name)
		}
	}
	if s := v.Get("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, "updated_since must be an RFC 3339 time, e.g. 2026-11-30T09:00:00Z"
		}
		q.UpdatedSince = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return q, "limit must be 1 to 200"
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		id, err := decodeCursor(s)
		if err != nil {
			return q, err.Error()
		}
		q.After = id
	}
	return q, ""
}

func (a *api) cases(w http.ResponseWriter, r *http.Request, numbers bool) {
	q, bad := a.caseQuery(r)
	if bad != "" {
		apiError(w, http.StatusBadRequest, "bad_request", bad)
		return
	}
	page, err := a.bot.CasesForAPI(r.Context(), q, numbers)
	if err != nil {
		a.fail(w, r.Context(), err)
		return
	}
	out := apiCasePage{Cases: make([]apiCase, len(page.Cases))}
	for i, c := range page.Cases {
		out.Cases[i] = toAPICase(c)
	}
	if page.Next != 0 {
		out.NextCursor = encodeCursor(page.Next)
	}
	apiJSON(w, out)
}

func (a *api) oneCase(w http.ResponseWriter, r *http.Request, numbers bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		apiError(w, http.StatusBadRequest, "bad_request", "a case id is a positive number")
		return
	}
	c, timeline, err := a.bot.CaseForAPI(r.Context(), id, numbers)
	if errors.Is(err, store.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", "no case #"+strconv.FormatInt(id, 10))
		return
	}
	if err != nil {
		a.fail(w, r.Context(), err)
		return
	}
	out := apiCaseDetail{apiCase: toAPICase(c), Timeline: make([]apiEvent, len(timeline))}
	for i, e := range timeline {
		out.Timeline[i] = apiEvent{At: e.At, Kind: e.Kind, Actor: e.Actor, Data: e.Data}
	}
	apiJSON(w, out)
}

func (a *api) kpis(w http.ResponseWriter, r *http.Request, _ bool) {
	spec := r.URL.Query().Get("week")
	if spec == "" {
		spec = "last"
	}
	p, err := bot.ISOWeek(spec, a.bot.Clock().Now(), a.cfg.Business.Timezone)
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "week must be an ISO week such as 2026-W48, \"last\" or \"this\"")
		return
	}
	k, err := a.bot.KPIs(r.Context(), p)
	if err != nil {
		a.fail(w, r.Context(), err)
		return
	}
	apiJSON(w, toAPIKPIs(k))
}

func (a *api) fail(w http.ResponseWriter, ctx context.Context, err error) {
	a.log.ErrorContext(ctx, "api: request failed", "error", err)
	apiError(w, http.StatusInternalServerError, "internal", "the request could not be answered; try again")
}
