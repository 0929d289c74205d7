package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"
)

// Locales are the languages every template can be written in. A template must have
// English; a locale it lacks falls back to English.
var locales = []string{"sv", "da", "nb", "en"}

const fallbackLocale = "en"

// The templates are files: templates/NAME/LOCALE.txt (text/template; it defines
// "subject" and its body is the plain-text part) and templates/NAME/LOCALE.html
// (html/template; the body of the HTML part, wrapped in templates/layout.html). The
// data of a message is the dot of both.
//
//go:embed templates
var templateFiles embed.FS

// Rendered is one message ready to send. It exists only in memory, while sending.
type Rendered struct {
	// ID is the outbox row's id. A sender derives the Message-ID from it, so that a
	// message sent again after a crash between accept and mark carries the same
	// Message-ID and receivers can drop the copy.
	ID      string
	To      string
	Locale  string
	Subject string
	Text    string
	HTML    string
}

// MessageID is the Message-ID (without angle brackets) of the message in domain.
func (r *Rendered) MessageID(domain string) string { return r.ID + "@" + domain }

type templateSet struct {
	byName map[string]map[string]*localized // name, then locale
}

type localized struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

type layoutData struct {
	Lang    string
	Subject string
	Data    map[string]string
}

func loadTemplates(fsys fs.FS) (*templateSet, error) {
	layoutSrc, err := fs.ReadFile(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	layout, err := htmltemplate.New("layout").Option("missingkey=error").Parse(string(layoutSrc))
	if err != nil {
		return nil, fmt.Errorf("mail templates: layout.html: %w", err)
	}
	dirs, err := fs.ReadDir(fsys, "templates")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	ts := &templateSet{byName: map[string]map[string]*localized{}}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		byLocale := map[string]*localized{}
		for _, loc := range locales {
			l, err := loadLocalized(fsys, layout, name, loc)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("mail templates: %s: %w", name, err)
			}
			byLocale[loc] = l
		}
		if byLocale[fallbackLocale] == nil {
			return nil, fmt.Errorf("mail templates: %s has no %s.txt and %s.html", name, fallbackLocale, fallbackLocale)
		}
		ts.byName[name] = byLocale
	}
	return ts, nil
}

func loadLocalized(fsys fs.FS, layout *htmltemplate.Template, name, loc string) (*localized, error) {
	dir := path.Join("templates", name)
	txt, terr := fs.ReadFile(fsys, path.Join(dir, loc+".txt"))
	html, herr := fs.ReadFile(fsys, path.Join(dir, loc+".html"))
	switch {
	case errors.Is(terr, fs.ErrNotExist) && errors.Is(herr, fs.ErrNotExist):
		return nil, fs.ErrNotExist
	case terr != nil:
		return nil, fmt.Errorf("%s.txt: %w", loc, terr)
	case herr != nil:
		return nil, fmt.Errorf("%s.html: %w", loc, herr)
	}
	t, err := texttemplate.New(loc + ".txt").Option("missingkey=error").Parse(string(txt))
	if err != nil {
		return nil, err
	}
	if t.Lookup("subject") == nil {
		return nil, fmt.Errorf("%s.txt does not define \"subject\"", loc)
	}
	h, err := layout.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := h.New("body").Parse(string(html)); err != nil {
		return nil, err
	}
	return &localized{text: t, html: h}, nil
}

// has reports whether the template exists.
func (ts *templateSet) has(name string) bool { return ts.byName[name] != nil }

// names lists the templates, sorted.
func (ts *templateSet) names() []string {
	out := make([]string, 0, len(ts.byName))
	for n := range ts.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// render fills the template in locale, or in English when the template lacks it.
// Errors name the template and the key, never a value.
func (ts *templateSet) render(name, locale string, data map[string]string) (subject, text, html string, err error) {
	byLocale := ts.byName[name]
	if byLocale == nil {
		return "", "", "", fmt.Errorf("unknown template %q", name)
	}
	l := byLocale[locale]
	if l == nil {
		l, locale = byLocale[fallbackLocale], fallbackLocale
	}
	if data == nil {
		data = map[string]string{}
	}
	var b bytes.Buffer
	if err := l.text.ExecuteTemplate(&b, "subject", data); err != nil {
		return "", "", "", fmt.Errorf("template %s/%s subject: %w", name, locale, err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ") // one line, whatever the file held
	b.Reset()
	if err := l.text.Execute(&b, data); err != nil {
		return "", "", "", fmt.Errorf("template %s/%s.txt: %w", name, locale, err)
	}
	text = strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := l.html.ExecuteTemplate(&b, "layout", layoutData{Lang: locale, Subject: subject, Data: data}); err != nil {
		return "", "", "", fmt.Errorf("template %s/%s.html: %w", name, locale, err)
	}
	return subject, text, b.String(), nil
}
