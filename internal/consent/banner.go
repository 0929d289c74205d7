package consent

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"tillit/internal/policy"
)

// bannerJS is the hand-written banner; Build replaces configMark with the
// configuration of one policy version.
//
//go:embed assets/banner.js
var bannerJS []byte

//go:embed assets/banner.css
var bannerCSS []byte

//go:embed assets/loader.js
var loaderJS []byte

const configMark = "/*CONFIG*/null"

// Bundle is the banner built for one policy version: the loader and the two
// content-hashed assets it points at.
type Bundle struct {
	Version int
	Hash    string
	Loader  []byte // served as /cookies/banner.js
	JS      []byte // served as /cookies/v/banner.{Hash}.js
	CSS     []byte // served as /cookies/v/banner.{Hash}.css
}

// JSName and CSSName are the file names of the hashed assets.
func (b *Bundle) JSName() string  { return "banner." + b.Hash + ".js" }
func (b *Bundle) CSSName() string { return "banner." + b.Hash + ".css" }

// config is the JSON object baked into the banner.
type config struct {
	Version int                          `json:"v"`
	Lang    string                       `json:"lang"` // fallback language
	Cats    []category                   `json:"cats"`
	Texts   map[string]map[string]string `json:"t"`
}

type category struct {
	ID      string   `json:"id"`
	Cookies []cookie `json:"cookies"`
}

type cookie struct {
	Name     string            `json:"n"`
	Provider string            `json:"p"`
	Lifetime map[string]string `json:"l"` // by language
	Purpose  map[string]string `json:"u"` // by language
}

var cookieOrder = []policy.CookieCategory{policy.CookieNecessary, policy.CookiePreferences,
	policy.CookieStatistics, policy.CookieMarketing}

// Build makes the banner for policy version n: the categories of p that have
// cookies (necessary always), each cookie's provider, lifetime and purpose in sv,
// da, nb and en, and the banner's texts. The hash covers the JS and the CSS, so a
// new version (or a new cookie table, or a new banner) gives new asset names.
func Build(p *policy.Policy, n int) *Bundle {
	cfg := config{Version: n, Lang: "en", Texts: texts}
	if len(p.Languages) > 0 {
		cfg.Lang = string(p.Languages[0])
	}
	for _, cat := range cookieOrder {
		c := category{ID: string(cat), Cookies: []cookie{}}
		for _, k := range p.Cookies {
			if k.Category != cat {
				continue
			}
			ck := cookie{Name: k.Name, Provider: k.Provider, Lifetime: map[string]string{}, Purpose: map[string]string{}}
			for _, l := range policy.AllLangs {
				ck.Lifetime[string(l)] = lifetime(k.Lifetime, string(l))
				ck.Purpose[string(l)] = k.Purpose.In(l)
			}
			c.Cookies = append(c.Cookies, ck)
		}
		if cat == policy.CookieNecessary || len(c.Cookies) > 0 {
			cfg.Cats = append(cfg.Cats, c)
		}
	}
	// json.Marshal escapes <, >, & and U+2028/9, so the object is safe inside a script.
	raw, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // only strings and ints
	}
	b := &Bundle{Version: n, CSS: bannerCSS}
	b.JS = bytes.Replace(bannerJS, []byte(configMark), raw, 1)
	sum := sha256.New()
	sum.Write(b.JS)
	sum.Write([]byte{0})
	sum.Write(b.CSS)
	b.Hash = hex.EncodeToString(sum.Sum(nil))[:16]
	b.Loader = loader(b.Hash, n)
	return b
}

// loader is /cookies/banner.js for one version: a stub of window.tillitConsent
// that answers from localStorage until the banner has loaded, and the two tags.
func loader(hash string, n int) []byte {
	r := strings.NewReplacer("HASH", hash, "VERSION", strconv.Itoa(n))
	return []byte(r.Replace(string(loaderJS)))
}

// noPolicyLoader is served while no policy is published: the API, always "no".
var noPolicyLoader = []byte(`/* Tillit: no policy is published yet. */
window.tillitConsent=window.tillitConsent||{get:function(c){return c==="necessary"},onChange:function(){},open:function(){}};
`)

var units = map[string][5][2]string{
	"sv": {{"år", "år"}, {"månad", "månader"}, {"dag", "dagar"}, {"timme", "timmar"}, {"minut", "minuter"}},
	"da": {{"år", "år"}, {"måned", "måneder"}, {"dag", "dage"}, {"time", "timer"}, {"minut", "minutter"}},
	"nb": {{"år", "år"}, {"måned", "måneder"}, {"dag", "dager"}, {"time", "timer"}, {"minutt", "minutter"}},
	"en": {{"year", "years"}, {"month", "months"}, {"day", "days"}, {"hour", "hours"}, {"minute", "minutes"}},
}

// lifetime writes a cookie lifetime in words: "1 år", "13 months", "session".
func lifetime(l policy.Lifetime, lang string) string {
	if l.Session {
		return texts[lang]["session"]
	}
	u := units[lang]
	var parts []string
	for i, n := range []int{l.Years, l.Months, l.Days, l.Hours, l.Minutes} {
		if n == 0 {
			continue
		}
		w := u[i][1]
		if n == 1 {
			w = u[i][0]
		}
		parts = append(parts, strconv.Itoa(n)+" "+w)
	}
	return strings.Join(parts, " ")
}
