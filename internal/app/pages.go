package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"tillit/internal/policy"
	"tillit/internal/web"
)

// Public pages: the published privacy policy and terms in each language, the current
// version and every older one (issue 6 item 3 and 4; P3).
func (s *server) publicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /privacy", s.negotiate("privacy"))
	mux.HandleFunc("GET /terms", s.negotiate("terms"))
	mux.HandleFunc("GET /{lang}/privacy", s.policyPage(policy.DocPrivacy))
	mux.HandleFunc("GET /{lang}/terms", s.policyPage(policy.DocTerms))
	mux.HandleFunc("GET /{lang}/privacy/v/{n}", s.policyPage(policy.DocPrivacy))
	mux.HandleFunc("GET /{lang}/terms/v/{n}", s.policyPage(policy.DocTerms))
}

// negotiate sends a visitor to the document in the language their browser prefers.
func (s *server) negotiate(doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/"+web.Lang(r)+"/"+doc, http.StatusSeeOther)
	}
}

func (s *server) policyPage(doc policy.DocKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := r.PathValue("lang")
		if !validChoice(lang, web.Languages...) {
			http.NotFound(w, r)
			return
		}
		versioned := r.PathValue("n") != ""
		var n int
		var err error
		if versioned {
			if n, err = strconv.Atoi(r.PathValue("n")); err != nil || n < 1 {
				http.NotFound(w, r)
				return
			}
		} else if n, err = s.versions.Current(r.Context(), time.Now()); errors.Is(err, policy.ErrNoVersion) {
			http.Error(w, web.T(lang, "policy.unpublished"), http.StatusNotFound)
			return
		}
		if err != nil {
			web.WriteProblem(w, r, err)
			return
		}
		page, err := s.versions.Page(r.Context(), n, doc, policy.Lang(lang))
		if errors.Is(err, policy.ErrNoVersion) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			web.WriteProblem(w, r, err)
			return
		}
		page = withLanguageSwitcher(page, string(doc), lang, versioned, n)
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Language", lang)
		// The rendered document carries its own small stylesheet; allow exactly it.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash(page)+"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		if versioned {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		w.Write(page)
	}
}

// withLanguageSwitcher puts links to the same document in the other languages at the
// top of the body.
func withLanguageSwitcher(page []byte, doc, lang string, versioned bool, n int) []byte {
	var nav bytes.Buffer
	fmt.Fprintf(&nav, `<nav aria-label="%s" class="langs"><ul>`, web.T(lang, "lang.switch"))
	for _, l := range web.Languages {
		href := "/" + l + "/" + doc
		if versioned {
			href += "/v/" + strconv.Itoa(n)
		}
		current := ""
		if l == lang {
			current = ` aria-current="page"`
		}
		fmt.Fprintf(&nav, `<li><a href="%s" hreflang="%s" lang="%s"%s>%s</a></li>`, href, l, l, current, web.T(l, "lang.name"))
	}
	nav.WriteString("</ul></nav>\n")
	page = bytes.Replace(page, []byte("</style>"), []byte(".langs ul{display:flex;gap:1rem;list-style:none;padding:0}@media print{.langs{display:none}}\n</style>"), 1)
	i := bytes.Index(page, []byte("<body>\n"))
	if i < 0 {
		return page
	}
	i += len("<body>\n")
	out := make([]byte, 0, len(page)+nav.Len())
	out = append(append(append(out, page[:i]...), nav.Bytes()...), page[i:]...)
	return out
}

// styleHash is the CSP source that allows exactly the document's own <style>.
func styleHash(page []byte) string {
	start := bytes.Index(page, []byte("<style>"))
	end := bytes.Index(page, []byte("</style>"))
	if start < 0 || end < start {
		return "'self'"
	}
	sum := sha256.Sum256(page[start+len("<style>") : end])
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
