package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// catalog is every word the documents use in one language. Sentences are
// fmt formats with indexed verbs (%[1]s) so each language orders the facts
// its own way. A test checks no entry is empty in any language.
type catalog struct {
	numbers [13]string           // 0-12 in words; larger numbers as digits
	oneFor  map[string]string    // the word for 1 before a unit, by unit (gender)
	units   map[string][2]string // unit -> singular, plural
	and     string
	or      string

	privacyTitle string // %[1]s company
	privacyIntro string // %[1]s company
	termsTitle   string
	termsIntro   string // %[1]s company, %[2]s org number

	controllerHeading string
	controller        string // %[1]s name, %[2]s org no, %[3]s address
	contactLine       string // %[1]s e-mail
	phoneLine         string // %[1]s phone
	websiteLine       string // %[1]s website
	dpo               string // %[1]s name, %[2]s e-mail

	categoriesHeading string
	categoriesIntro   string
	termData          string
	termPurposes      string
	termBasis         string
	termSource        string
	termRetention     string
	termProvision     string
	termRecipients    string
	legitimateIntro   string // %[1]s basis label, %[2]s interest
	special           string // %[1]s Art. 9 basis
	purposes          map[PurposeKind]string
	basis             map[Basis]string
	sources           map[Source]string
	provision         map[Provision]string

	retentionAfter map[Event]string // %[1]s duration in words
	retentionZero  map[Event]string
	bookkeeping    map[Country]string

	recipientsHeading string
	recipientsIntro   string
	recipientsNone    string
	recipientsHead    [5]string // name, role, purposes, country, transfer
	roles             map[Role]string
	transfers         map[TransferBasis]string
	noTransfer        string // inside the EU/EEA
	authorities       string // disclosure to authorities (D3)
	fieldsOnly        string // %[1]s recipient, %[2]s fields

	storageHeading string
	storageIntro   string // %[1]s list of countries
	storageItem    string // %[1]s country, %[2]s description

	ruledOutHeading string
	ruledOutIntro   string
	ruledOut        map[PurposeKind]string

	cookiesHeading string
	cookiesIntro   string
	cookiesNone    string
	cookiesHead    [5]string
	cookieCats     map[CookieCategory]string
	session        string

	securityHeading string
	staffAccess     string // %[1]s reasons
	reasons         map[AccessReason]string

	rightsHeading  string
	rights         []string
	howPortal      string // %[1]s e-mail
	howEmail       string // %[1]s e-mail
	replyDeadline  string
	deletion       string // %[1]s duration
	accessReply    map[AccessReply]string
	objection      string // %[1]s address
	withdrawal     string // %[1]s where
	withdrawPortal string
	automatedNo    string
	automatedYes   string

	breachHeading string
	breach        string // %[1]s authority
	breachContact string // %[1]s name, %[2]s contact

	complaintHeading string
	complaint        string // %[1]s authority name, %[2]s address, %[3]s e-mail, %[4]s phone, %[5]s website

	changesHeading  string
	governs         map[Governs]string
	changeNotice    string // %[1]s duration
	saleNotice      string // %[1]s duration
	serviceHeading  string
	subHeading      string
	subTerm         string // %[1]s term
	renewal         map[Renewal]string
	billing         map[BillingTime]string
	notice          string // %[1]s duration
	cancelBefore    string // %[1]s duration
	withdrawHeading string
	withdrawDays    string // %[1]s days, %[2]s from-event
	withdrawFrom    map[WithdrawStart]string
	withdrawChannel string // %[1]s channel
	withdrawRemoval string
	withdrawLaw     string
	payHeading      string
	priceHeading    string
	payMethods      string // %[1]s methods
	methods         map[PaymentMethod]string
	payDue          string // %[1]s days
	payDueNow       string
	payEmailOnly    string
	payProvider     string // %[1]s provider
	dunningIntro    string
	dunning         map[DunningAction]string // %[1]s duration after due date
	priceCap        string                   // %[1]s percent, %[2]s notice
	supportHeading  string
	supportChannels string // %[1]s channels
	channels        map[Channel]string
	supportHours    string // %[1]s open, %[2]s close, %[3]s country
	targetKinds     map[TargetKind]string
	clocks          map[ClockKind]string // %[1]s duration
	target          string               // %[1]s kind, %[2]s clock phrase
	scoped          string               // %[1]s target, %[2]s scope
	included        string               // %[1]s period, %[2]s from
	entitleFrom     map[EntitleFrom]string
	uptime          string // %[1]s percent
	ageHeading      string
	age             string // %[1]s age
	lawHeading      string
	law             string // %[1]s the law, e.g. "Swedish law"
	lawOf           map[Country]string
	lawAuthority    string // %[1]s authority
	contactHeading  string
	percent         func(float64) string
}

var catalogs = map[Lang]*catalog{SV: &sv, DA: &da, NB: &nb, EN: &en}

// words writes a duration in words: "ett år och sex månader", "30 dagar".
func (c *catalog) words(d Duration) string {
	var parts []string
	add := func(n int, u string) {
		if n == 0 {
			return
		}
		forms := c.units[u]
		var num, unit string
		switch {
		case n == 1:
			num, unit = c.oneFor[u], forms[0]
		case n <= 12:
			num, unit = c.numbers[n], forms[1]
		default:
			num, unit = strconv.Itoa(n), forms[1]
		}
		parts = append(parts, num+" "+unit)
	}
	add(d.Years, "y")
	add(d.Months, "m")
	add(d.Days, "d")
	add(d.Hours, "h")
	add(d.Minutes, "min")
	if len(parts) == 0 {
		return c.numbers[0] + " " + c.units["d"][1]
	}
	return c.list(parts)
}

// list joins "a, b and c".
func (c *catalog) list(xs []string) string { return joinWith(xs, c.and) }

// listOr joins "a, b or c".
func (c *catalog) listOr(xs []string) string { return joinWith(xs, c.or) }

func joinWith(xs []string, word string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " " + word + " " + xs[len(xs)-1]
}

func (c *catalog) days(n int) string {
	if n == 1 {
		return c.oneFor["d"] + " " + c.units["d"][0]
	}
	return strconv.Itoa(n) + " " + c.units["d"][1]
}

type builder struct {
	p    *Policy
	c    *catalog
	lang Lang
}

func (b *builder) f(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func (b *builder) name() string {
	co := b.p.Company
	if co.TradeName != "" && co.TradeName != co.Name {
		return co.TradeName + " (" + co.Name + ")"
	}
	return co.Name
}

// retention says a retention rule in words.
func (b *builder) retention(r Retention) string {
	if r.BookkeepingLaw {
		return b.c.bookkeeping[b.p.Company.Country]
	}
	if r.Period.set && r.Period.ApproxDays() == 0 {
		return b.c.retentionZero[r.After]
	}
	return b.f(b.c.retentionAfter[r.After], b.c.words(r.Period))
}

func (b *builder) purposes(ps []PurposeKind) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = b.c.purposes[p]
	}
	return b.c.list(out)
}

func (b *builder) authority() Authority {
	a, _ := LookupAuthority(b.p.Authority)
	return a
}

func (b *builder) privacy() document {
	p, c := b.p, b.c
	co := p.Company
	d := document{Lang: b.lang, Title: b.f(c.privacyTitle, b.name()), Intro: []string{b.f(c.privacyIntro, co.Name)}}

	ctrl := section{ID: "controller", Heading: c.controllerHeading}
	addr := co.Address.Street + ", " + co.Address.PostalCode + " " + co.Address.City + ", " + CountryName(co.Country, b.lang)
	ctrl.Paras = append(ctrl.Paras, b.f(c.controller, co.Name, co.OrgNumber, addr))
	ctrl.List = append(ctrl.List, b.f(c.contactLine, co.Email))
	if co.Phone != "" {
		ctrl.List = append(ctrl.List, b.f(c.phoneLine, co.Phone))
	}
	if co.Website != "" {
		ctrl.List = append(ctrl.List, b.f(c.websiteLine, co.Website))
	}
	if co.DPO != nil {
		ctrl.After = append(ctrl.After, b.f(c.dpo, co.DPO.Name, co.DPO.Email))
	}
	d.Sections = append(d.Sections, ctrl)

	cats := section{ID: "categories", Heading: c.categoriesHeading, Paras: []string{c.categoriesIntro}}
	names := map[string]string{}
	for _, r := range p.Recipients {
		names[r.ID] = r.Name
	}
	for _, cat := range p.Categories {
		s := section{ID: "category-" + cat.ID, Heading: cat.Name.In(b.lang)}
		if !cat.Data.Empty() {
			s.Defs = append(s.Defs, def{c.termData, cat.Data.In(b.lang)})
		}
		purpose := b.purposes(cat.Purposes)
		if !cat.Description.Empty() {
			purpose += ". " + cat.Description.In(b.lang)
		}
		s.Defs = append(s.Defs, def{c.termPurposes, purpose})
		basis := c.basis[cat.Basis]
		if !cat.LegitimateInterest.Empty() {
			basis = b.f(c.legitimateIntro, basis, cat.LegitimateInterest.In(b.lang))
		}
		if cat.SpecialBasis != "" {
			basis += "; " + b.f(c.special, cat.SpecialBasis)
		}
		s.Defs = append(s.Defs, def{c.termBasis, basis})
		var src []string
		for _, x := range cat.Sources {
			src = append(src, c.sources[x])
		}
		s.Defs = append(s.Defs, def{c.termSource, c.list(src)})
		s.Defs = append(s.Defs, def{c.termRetention, b.retention(cat.Retention)})
		if cat.Provision != "" {
			s.Defs = append(s.Defs, def{c.termProvision, c.provision[cat.Provision]})
		}
		if len(cat.Recipients) > 0 {
			var rs []string
			for _, id := range cat.Recipients {
				rs = append(rs, names[id])
			}
			s.Defs = append(s.Defs, def{c.termRecipients, c.list(rs)})
		}
		cats.Subs = append(cats.Subs, s)
	}
	d.Sections = append(d.Sections, cats)

	rec := section{ID: "recipients", Heading: c.recipientsHeading}
	if len(p.Recipients) == 0 {
		rec.Paras = []string{c.recipientsNone}
	} else {
		rec.Paras = []string{c.recipientsIntro}
		t := &table{Head: c.recipientsHead[:]}
		for _, r := range p.Recipients {
			tr := c.noTransfer
			if r.Transfer != "" {
				tr = c.transfers[r.Transfer]
			}
			t.Rows = append(t.Rows, []string{r.Name, c.roles[r.Role], b.purposes(r.Purposes), CountryName(r.Country, b.lang), tr})
			if len(r.Fields) > 0 || !r.Description.Empty() {
				s := r.Description.In(b.lang)
				if len(r.Fields) > 0 {
					s = strings.TrimSpace(s + " " + b.f(c.fieldsOnly, r.Name, strings.Join(r.Fields, ", ")))
				}
				rec.After = append(rec.After, s)
			}
		}
		rec.Table = t
	}
	rec.After = append(rec.After, c.authorities)
	d.Sections = append(d.Sections, rec)

	if len(p.Storage) > 0 {
		st := section{ID: "storage", Heading: c.storageHeading}
		var cs []string
		seen := map[Country]bool{}
		for _, s := range p.Storage {
			if !seen[s.Country] {
				cs = append(cs, CountryName(s.Country, b.lang))
				seen[s.Country] = true
			}
		}
		st.Paras = []string{b.f(c.storageIntro, c.list(cs))}
		for _, s := range p.Storage {
			item := CountryName(s.Country, b.lang)
			if !s.Description.Empty() {
				item = b.f(c.storageItem, item, s.Description.In(b.lang))
			}
			if s.Transfer != "" {
				item += " (" + c.transfers[s.Transfer] + ")"
			}
			st.List = append(st.List, item)
		}
		d.Sections = append(d.Sections, st)
	}

	if len(p.Privacy.RuledOut) > 0 {
		ro := section{ID: "never", Heading: c.ruledOutHeading, Paras: []string{c.ruledOutIntro}}
		for _, r := range p.Privacy.RuledOut {
			ro.List = append(ro.List, c.ruledOut[r])
		}
		d.Sections = append(d.Sections, ro)
	}

	ck := section{ID: "cookies", Heading: c.cookiesHeading}
	if len(p.Cookies) == 0 {
		ck.Paras = []string{c.cookiesNone}
	} else {
		ck.Paras = []string{c.cookiesIntro}
		t := &table{Head: c.cookiesHead[:]}
		for _, k := range p.Cookies {
			life := c.session
			if !k.Lifetime.Session {
				life = c.words(k.Lifetime.Duration)
			}
			t.Rows = append(t.Rows, []string{k.Name, k.Provider, c.cookieCats[k.Category], k.Purpose.In(b.lang), life})
		}
		ck.Table = t
	}
	d.Sections = append(d.Sections, ck)

	sec := section{ID: "security", Heading: c.securityHeading}
	for _, m := range p.Security {
		sec.List = append(sec.List, m.In(b.lang))
	}
	var rs []string
	for _, r := range p.Privacy.StaffAccessReasons {
		rs = append(rs, c.reasons[r])
	}
	if len(rs) > 0 {
		sec.After = append(sec.After, b.f(c.staffAccess, c.listOr(rs)))
	}
	d.Sections = append(d.Sections, sec)

	rights := section{ID: "rights", Heading: c.rightsHeading, List: c.rights}
	if p.Privacy.Portal {
		rights.After = append(rights.After, b.f(c.howPortal, co.Email))
	} else {
		rights.After = append(rights.After, b.f(c.howEmail, co.Email))
	}
	rights.After = append(rights.After, c.replyDeadline)
	if p.Privacy.AccessReply != "" {
		rights.After = append(rights.After, c.accessReply[p.Privacy.AccessReply])
	}
	rights.After = append(rights.After, b.f(c.deletion, c.words(p.Privacy.DeletionDeadline.Duration())))
	obj := co.Email
	if p.Privacy.MarketingObjection != "" {
		obj = p.Privacy.MarketingObjection
	}
	rights.After = append(rights.After, b.f(c.objection, obj))
	consent := false
	for _, cat := range p.Categories {
		consent = consent || cat.Basis == BasisConsent
	}
	if consent {
		where := p.Privacy.WithdrawalContact
		if where == "" {
			where = co.Email
		}
		w := b.f(c.withdrawal, where)
		if p.Privacy.Portal {
			w += " " + c.withdrawPortal
		}
		rights.After = append(rights.After, w)
	}
	if p.Privacy.AutomatedDecisions != nil && *p.Privacy.AutomatedDecisions {
		rights.After = append(rights.After, c.automatedYes)
	} else {
		rights.After = append(rights.After, c.automatedNo)
	}
	d.Sections = append(d.Sections, rights)

	a := b.authority()
	br := section{ID: "breaches", Heading: c.breachHeading, Paras: []string{b.f(c.breach, a.Name.In(b.lang))}}
	for _, bc := range p.Privacy.BreachContacts {
		var how []string
		if bc.Email != "" {
			how = append(how, bc.Email)
		}
		if bc.Phone != "" {
			how = append(how, bc.Phone)
		}
		br.List = append(br.List, b.f(c.breachContact, bc.Name, strings.Join(how, ", ")))
	}
	d.Sections = append(d.Sections, br)

	d.Sections = append(d.Sections, section{ID: "complaints", Heading: c.complaintHeading,
		Paras: []string{b.f(c.complaint, a.Name.In(b.lang), a.Address, a.Email, a.Phone, a.Website)}})

	ch := section{ID: "changes", Heading: c.changesHeading, Paras: []string{c.governs[p.Terms.GovernsExisting]}}
	if p.Terms.ChangeNotice.set {
		ch.Paras = append(ch.Paras, b.f(c.changeNotice, c.words(p.Terms.ChangeNotice)))
	}
	if p.Privacy.SaleNotice.set {
		ch.Paras = append(ch.Paras, b.f(c.saleNotice, c.words(p.Privacy.SaleNotice)))
	}
	d.Sections = append(d.Sections, ch)
	d.Sections = append(d.Sections, b.clauses(DocPrivacy)...)
	return d
}

// Duration returns the duration itself; it lets a Duration and a
// Lifetime be used alike.
func (d Duration) Duration() Duration { return d }

func (b *builder) clauses(doc DocKind) []section {
	var out []section
	for _, cl := range b.p.Clauses {
		in := cl.In
		if in == "" {
			in = DocTerms
		}
		if in != doc {
			continue
		}
		var paras []string
		for _, para := range strings.Split(cl.Text.In(b.lang), "\n\n") {
			if t := strings.TrimSpace(para); t != "" {
				paras = append(paras, t)
			}
		}
		out = append(out, section{ID: "clause-" + cl.ID, Heading: cl.Title.In(b.lang), Paras: paras})
	}
	return out
}

func (b *builder) terms() document {
	p, c := b.p, b.c
	co := p.Company
	d := document{Lang: b.lang, Title: b.f(c.termsTitle, b.name()), Intro: []string{b.f(c.termsIntro, co.Name, co.OrgNumber)}}
	d.Sections = append(d.Sections, section{ID: "service", Heading: c.serviceHeading, Paras: []string{p.Terms.Service.In(b.lang)}})
	if cm := p.Commerce; cm != nil {
		if s := cm.Subscription; s != nil {
			sec := section{ID: "subscription", Heading: c.subHeading}
			sec.Paras = append(sec.Paras, b.f(c.subTerm, c.words(s.Term))+" "+c.billing[s.Billing]+" "+c.renewal[s.Renewal])
			if s.Notice.set {
				sec.Paras = append(sec.Paras, b.f(c.notice, c.words(s.Notice)))
			}
			if s.CancelBeforeExpiry.set {
				sec.Paras = append(sec.Paras, b.f(c.cancelBefore, c.words(s.CancelBeforeExpiry)))
			}
			d.Sections = append(d.Sections, sec)
		}
		if w := cm.Withdrawal; w != nil {
			sec := section{ID: "withdrawal", Heading: c.withdrawHeading}
			sec.Paras = append(sec.Paras, b.f(c.withdrawDays, c.days(w.Days), c.withdrawFrom[w.From]))
			if w.IncludesRemoval {
				sec.Paras = append(sec.Paras, c.withdrawRemoval)
			}
			if w.Channel != "" {
				sec.Paras = append(sec.Paras, b.f(c.withdrawChannel, w.Channel))
			}
			sec.Paras = append(sec.Paras, c.withdrawLaw)
			d.Sections = append(d.Sections, sec)
		}
		if pm := cm.Payment; pm != nil {
			sec := section{ID: "payment", Heading: c.payHeading}
			var ms []string
			for _, m := range pm.Methods {
				ms = append(ms, c.methods[m])
			}
			sec.Paras = append(sec.Paras, b.f(c.payMethods, c.listOr(ms)))
			if pm.DueDays > 0 {
				sec.Paras = append(sec.Paras, b.f(c.payDue, c.days(pm.DueDays)))
			} else {
				sec.Paras = append(sec.Paras, c.payDueNow)
			}
			if pm.InvoiceByEmailOnly {
				sec.Paras = append(sec.Paras, c.payEmailOnly)
			}
			if pm.Provider != "" {
				sec.Paras = append(sec.Paras, b.f(c.payProvider, pm.Provider))
			}
			if len(pm.Dunning) > 0 {
				sec.Paras = append(sec.Paras, c.dunningIntro)
				for _, s := range pm.Dunning {
					sec.List = append(sec.List, b.f(c.dunning[s.Action], c.words(s.After)))
				}
			}
			d.Sections = append(d.Sections, sec)
		}
		if pc := cm.PriceChange; pc != nil {
			d.Sections = append(d.Sections, section{ID: "prices", Heading: c.priceHeading,
				Paras: []string{b.f(c.priceCap, c.percent(pc.CapPercentPerYear), c.words(pc.Notice))}})
		}
	}
	if s := p.Support; s != nil {
		sec := section{ID: "support", Heading: c.supportHeading}
		var chs []string
		for _, ch := range s.Channels {
			chs = append(chs, c.channels[ch])
		}
		sec.Paras = append(sec.Paras, b.f(c.supportChannels, c.list(chs)))
		if s.Hours != nil {
			sec.Paras = append(sec.Paras, b.f(c.supportHours, s.Hours.Open, s.Hours.Close, CountryName(p.Company.Country, b.lang)))
		}
		for _, t := range s.Targets {
			clock := c.clocks[t.Clock]
			if strings.Contains(clock, "%") {
				clock = b.f(clock, c.words(t.Within))
			}
			item := b.f(c.target, c.targetKinds[t.Kind], clock)
			if !t.Scope.Empty() {
				item = b.f(c.scoped, item, t.Scope.In(b.lang))
			}
			sec.List = append(sec.List, item)
		}
		if cm := p.Commerce; cm != nil && cm.SupportIncluded != nil {
			sec.After = append(sec.After, b.f(c.included, c.words(cm.SupportIncluded.Period), c.entitleFrom[cm.SupportIncluded.From]))
		}
		if s.Uptime > 0 {
			sec.After = append(sec.After, b.f(c.uptime, c.percent(s.Uptime)))
		}
		d.Sections = append(d.Sections, sec)
	} else if cm := p.Commerce; cm != nil && cm.SupportIncluded != nil {
		d.Sections = append(d.Sections, section{ID: "support", Heading: c.supportHeading,
			Paras: []string{b.f(c.included, c.words(cm.SupportIncluded.Period), c.entitleFrom[cm.SupportIncluded.From])}})
	}
	if p.Terms.MinimumAge > 0 {
		d.Sections = append(d.Sections, section{ID: "age", Heading: c.ageHeading, Paras: []string{b.f(c.age, p.Terms.MinimumAge)}})
	}
	d.Sections = append(d.Sections, b.clauses(DocTerms)...)
	ch := section{ID: "changes", Heading: c.changesHeading, Paras: []string{c.governs[p.Terms.GovernsExisting]}}
	if p.Terms.ChangeNotice.set {
		ch.Paras = append(ch.Paras, b.f(c.changeNotice, c.words(p.Terms.ChangeNotice)))
	}
	d.Sections = append(d.Sections, ch)
	a := b.authority()
	d.Sections = append(d.Sections, section{ID: "law", Heading: c.lawHeading, Paras: []string{
		b.f(c.law, b.lawOf(p.Law.Country)), p.Law.Courts.In(b.lang), b.f(c.lawAuthority, a.Name.In(b.lang)),
	}})
	contact := section{ID: "contact", Heading: c.contactHeading}
	addr := co.Address.Street + ", " + co.Address.PostalCode + " " + co.Address.City
	contact.List = []string{co.Name + ", " + co.OrgNumber, addr, b.f(c.contactLine, co.Email)}
	if co.Phone != "" {
		contact.List = append(contact.List, b.f(c.phoneLine, co.Phone))
	}
	d.Sections = append(d.Sections, contact)
	return d
}

func (b *builder) lawOf(c Country) string {
	if s, ok := b.c.lawOf[c]; ok {
		return s
	}
	return b.f(b.c.lawOf[""], CountryName(c, b.lang))
}
