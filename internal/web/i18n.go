package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// Languages are the ones every page and mail is written in, in the order offered.
var Languages = []string{"sv", "da", "nb", "en"}

//go:embed locales/*.json
var localeFiles embed.FS

// catalogs holds each language's messages; loadCatalogs checks at start-up that every
// language has every key English has, so a missing translation fails the tests and
// the boot, never a page.
var catalogs = mustLoadCatalogs()

func mustLoadCatalogs() map[string]map[string]string {
	c, err := loadCatalogs()
	if err != nil {
		panic(err)
	}
	return c
}

func loadCatalogs() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		b, err := localeFiles.ReadFile("locales/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("locales/%s.json: %w", lang, err)
		}
		out[lang] = m
	}
	for key := range out["en"] {
		for _, lang := range Languages {
			if out[lang][key] == "" {
				return nil, fmt.Errorf("locales/%s.json lacks %q", lang, key)
			}
		}
	}
	for _, lang := range Languages {
		for key := range out[lang] {
			if _, ok := out["en"][key]; !ok {
				return nil, fmt.Errorf("locales/%s.json has %q, which en.json lacks", lang, key)
			}
		}
	}
	return out, nil
}

// T is the message key in lang, with args formatted in; an unknown key shows itself.
func T(lang, key string, args ...any) string {
	msg, ok := catalogs[lang][key]
	if !ok {
		if msg, ok = catalogs["en"][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

var matcher = language.NewMatcher([]language.Tag{language.Swedish, language.Danish, language.Norwegian, language.English})

// Lang picks the page language: ?lang= when valid, then the "lang" cookie, then
// Accept-Language (Norwegian "no" and "nn" read as bokmål), else English.
func Lang(r *http.Request) string {
	for _, l := range []string{r.URL.Query().Get("lang"), cookieValue(r, "lang")} {
		for _, ok := range Languages {
			if l == ok {
				return l
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return "en"
	}
	return []string{"sv", "da", "nb", "en"}[i]
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
