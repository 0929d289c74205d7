package mail

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// Every shipped template renders in every locale with its own subject and text, and
// no locale silently falls back to English.
func TestTemplates_EveryTemplateInEveryLocale(t *testing.T) {
	ts, err := loadTemplates(templateFiles)
	if err != nil {
		t.Fatal(err)
	}
	if got := ts.names(); !slices.Equal(got, []string{"breach-notice", "breach-reminder", "login-link", "new-device", "privacy-deadline", "privacy-extension", "test"}) {
		t.Fatalf("templates = %v", got)
	}
	data := map[string]string{"link": "https://tillit.example/portal/login/tok_1", "when": "2026-11-26 09:00 UTC", "ip": "192.0.2.7", "request": "r-1", "due": "2026-12-28", "kind": "access", "reason": "Many systems to search.", "deadline": "2026-11-29 11:00 CET", "title": "Lost laptop", "hours": "24",
		"company": "Nordlås Installation AB", "measures": "We changed all passwords.", "contact": "dpo@example.com"}
	subjects := map[string]string{}
	for _, name := range ts.names() {
		for _, loc := range locales {
			if ts.byName[name][loc] == nil {
				t.Fatalf("%s has no %s version", name, loc)
			}
			subject, text, html, err := ts.render(name, loc, data)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, loc, err)
			}
			if subject == "" || strings.ContainsAny(subject, "\r\n") || strings.TrimSpace(text) == "" {
				t.Fatalf("%s/%s: subject %q, text %q", name, loc, subject, text)
			}
			if strings.Contains(text+html, "<no value>") || !strings.Contains(html, `<html lang="`+loc+`">`) {
				t.Fatalf("%s/%s rendered badly:\n%s\n%s", name, loc, text, html)
			}
			if name == "login-link" && (!strings.Contains(text, data["link"]) || !strings.Contains(html, `href="`+data["link"]+`"`)) {
				t.Fatalf("%s/%s lacks the link", name, loc)
			}
			if prev, dup := subjects[subject]; dup {
				t.Fatalf("%s/%s has the same subject as %s: %q", name, loc, prev, subject)
			}
			subjects[subject] = name + "/" + loc
		}
	}
	if _, _, _, err := ts.render("test", "en", nil); err != nil {
		t.Fatalf("test template needs no data: %v", err)
	}
	if s, _, _, _ := ts.render("test", "en", nil); s != "Tillit test message" {
		t.Fatalf("test subject = %q", s)
	}
}

// HTML escapes data; a locale a template lacks falls back to English.
func TestTemplates_EscapingAndFallback(t *testing.T) {
	fsys := fstest.MapFS{
		"templates/layout.html": {Data: []byte(`<html lang="{{.Lang}}">{{template "body" .Data}}</html>`)},
		"templates/hi/en.txt":   {Data: []byte(`{{define "subject"}}Hi {{.name}}{{end}}Hi {{.name}}`)},
		"templates/hi/en.html":  {Data: []byte(`<p>Hi {{.name}}</p>`)},
	}
	ts, err := loadTemplates(fsys)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := ts.render("hi", "sv", map[string]string{"name": "<b>Bo</b>"})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Hi <b>Bo</b>" || text != "Hi <b>Bo</b>\n" {
		t.Fatalf("subject %q, text %q", subject, text)
	}
	if !strings.Contains(html, `lang="en"`) || !strings.Contains(html, "Hi &lt;b&gt;Bo&lt;/b&gt;") {
		t.Fatalf("html = %q, want English fallback with escaped data", html)
	}
	delete(fsys, "templates/hi/en.html")
	if _, err := loadTemplates(fsys); err == nil {
		t.Fatal("a template without en.html loaded")
	}
}

func TestQueriesAllPresent(t *testing.T) {
	if _, err := loadQueries(queriesSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := loadQueries("-- name: insert\nSELECT 1;\n"); err == nil {
		t.Fatal("missing queries not reported")
	}
}
