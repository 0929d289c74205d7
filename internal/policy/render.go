package policy

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Rendering has two halves. The words live in one catalog per language
// (lang_sv.go, lang_da.go, lang_nb.go, lang_en.go): whole sentences with the
// company's facts filled in, written for each language rather than
// translated word by word. The layout lives in two embedded templates
// (templates/doc.html.tmpl, templates/doc.md.tmpl) that know nothing of
// language. build*.go turns a Policy and a catalog into a document model
// the templates print.

//go:embed templates/*.tmpl
var templateFS embed.FS

var (
	htmlTmpl = htmltemplate.Must(htmltemplate.New("doc.html.tmpl").ParseFS(templateFS, "templates/doc.html.tmpl"))
	mdTmpl   = texttemplate.Must(texttemplate.New("doc.md.tmpl").Funcs(texttemplate.FuncMap{
		"md": mdEscape, "cell": mdCell,
	}).ParseFS(templateFS, "templates/doc.md.tmpl"))
)

// document is what the templates print.
type document struct {
	Lang     Lang
	Title    string
	Intro    []string
	Version  string
	Sections []section
}

type section struct {
	ID      string
	Heading string
	Paras   []string
	List    []string
	Defs    []def
	Table   *table
	Subs    []section
	After   []string // paragraphs after the list or table
}

type def struct{ Term, Desc string }

type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// Render renders the privacy policy (doc "privacy") or the terms (doc
// "terms") of p in lang as HTML or Markdown (P3). p must have passed Parse
// without errors.
func Render(p *Policy, doc DocKind, lang Lang, format Format) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("policy: render: no policy")
	}
	cat, ok := catalogs[lang]
	if !ok {
		return nil, fmt.Errorf("policy: render: unknown language %q (want sv, da, nb or en)", lang)
	}
	b := &builder{p: p, c: cat, lang: lang}
	var d document
	switch doc {
	case DocPrivacy:
		d = b.privacy()
	case DocTerms:
		d = b.terms()
	default:
		return nil, fmt.Errorf("policy: render: unknown document %q (want privacy or terms)", doc)
	}
	var out bytes.Buffer
	var err error
	switch format {
	case HTML:
		err = htmlTmpl.Execute(&out, d)
	case Markdown:
		err = mdTmpl.Execute(&out, d)
	default:
		return nil, fmt.Errorf("policy: render: unknown format %q (want html or md)", format)
	}
	if err != nil {
		return nil, fmt.Errorf("policy: render %s/%s/%s: %w", doc, lang, format, err)
	}
	return out.Bytes(), nil
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `#`, `\#`, `|`, `\|`)

// mdEscape makes text literal in Markdown: no emphasis, links or HTML.
func mdEscape(s string) string {
	s = mdSpecial.Replace(s)
	s = strings.ReplaceAll(s, "\r", "")
	// A line starting with a digit and a dot, or a dash, would be a list.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " ")
		if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") || strings.HasPrefix(t, "=") {
			lines[i] = `\` + t
		} else if j := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }); j > 0 && (t[j] == '.' || t[j] == ')') {
			lines[i] = t[:j] + `\` + t[j:]
		}
	}
	return strings.Join(lines, "\n")
}

// mdCell is mdEscape for a table cell, which must stay on one line.
func mdCell(s string) string {
	return mdEscape(strings.Join(strings.Fields(s), " "))
}
