package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds one parsed template set per page, each with the shared layout; parsing
// happens at start-up, so a broken template stops the boot, never a request.
var pages = mustParsePages("login", "dashboard", "totp")

func mustParsePages(names ...string) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, n := range names {
		out[n] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
}

// cssPath is the stylesheet's content-hashed URL, cached for a year.
var cssPath, cssBody = hashedAsset("static/tillit.css")

func hashedAsset(name string) (string, []byte) {
	b, err := staticFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	base := strings.TrimSuffix(name[strings.LastIndex(name, "/")+1:], ".css")
	return "/" + base + "." + hex.EncodeToString(sum[:6]) + ".css", b
}

// Static serves the hashed assets; any other name is a 404.
func Static(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cssPath {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(cssBody)
}

// View is what a page template sees.
type View struct {
	Lang  string
	Title string
	Error string
	CSS   string
	Langs []LangLink
	Data  any
}

// LangLink is one entry of the language switcher.
type LangLink struct {
	Code, Name string
	Current    bool
}

// T translates key into the page's language.
func (v View) T(key string, args ...any) string { return T(v.Lang, key, args...) }

// Render writes page name in the request's language with status.
func Render(w http.ResponseWriter, r *http.Request, status int, name, titleKey, errMsg string, data any) {
	lang := Lang(r)
	if q := r.URL.Query().Get("lang"); q == lang {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
	v := View{Lang: lang, Title: T(lang, titleKey), Error: errMsg, CSS: cssPath, Data: data}
	for _, l := range Languages {
		v.Langs = append(v.Langs, LangLink{Code: l, Name: T(l, "lang.name"), Current: l == lang})
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		slog.ErrorContext(r.Context(), "render", "page", name, "err", err, "request_id", RequestID(r.Context()))
		http.Error(w, T(lang, "error.title"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
