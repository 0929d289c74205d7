package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tillit/internal/nordic"
)

// Parse reads and validates a policy file (P2). The policy is nil only
// when the file is not YAML at all; otherwise it is returned with every
// diagnostic, sorted by position. A policy with errors must not be
// published or rendered.
func Parse(filename string, data []byte) (*Policy, Diagnostics) {
	p, d := decodeFile(filename, data)
	if p != nil {
		c := &checker{p: p, d: d}
		c.run()
	}
	d.diags.sort()
	return p, d.diags
}

// Check validates a policy file and returns only the diagnostics; it is
// what `tillit policy check FILE` prints.
func Check(filename string, data []byte) Diagnostics {
	_, ds := Parse(filename, data)
	return ds
}

type checker struct {
	p *Policy
	d *decoder
}

// node returns a stand-in node at the recorded position of path, or of
// its closest recorded parent.
func (c *checker) at(path string) (int, int) {
	for p := path; ; {
		if pos, ok := c.p.pos[p]; ok {
			return pos.line, pos.col
		}
		if p == "" {
			return 1, 1
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

func (c *checker) report(sev Severity, path, format string, args ...any) {
	line, col := c.at(path)
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	c.d.diags = append(c.d.diags, Diagnostic{File: c.d.file, Line: line, Col: col, Severity: sev, Path: path, Message: msg})
}

func (c *checker) errorf(path, format string, args ...any) {
	c.report(SeverityError, path, format, args...)
}
func (c *checker) warnf(path, format string, args ...any) {
	c.report(SeverityWarning, path, format, args...)
}

func (c *checker) has(path string) bool { return c.p.present[path] }

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ids checks that each id is well-formed and unique, and returns the set.
func (c *checker) ids(kind string, n int, id func(int) string, path func(int) string) map[string]bool {
	seen := map[string]int{}
	for i := range n {
		s := id(i)
		if s == "" {
			continue
		}
		if !idPattern.MatchString(s) {
			c.errorf(path(i)+".id", "%s id %q must be lower case letters, digits and _, starting with a letter", kind, s)
		}
		if j, dup := seen[s]; dup {
			l, _ := c.at(path(j) + ".id")
			c.errorf(path(i)+".id", "duplicate %s id %q (first at line %d)", kind, s, l)
			continue
		}
		seen[s] = i
	}
	out := map[string]bool{}
	for s := range seen {
		out[s] = true
	}
	return out
}

func (c *checker) run() {
	p := c.p
	if c.has("format") && p.Format != 1 {
		c.errorf("format", "unsupported format %d; this Tillit reads format 1", p.Format)
	}
	seenLang := map[Lang]bool{}
	for i, l := range p.Languages {
		if seenLang[l] {
			c.errorf(fmt.Sprintf("languages[%d]", i), "language %q listed twice", l)
		}
		seenLang[l] = true
	}
	c.company()
	c.authority()
	recipients := c.ids("recipient", len(p.Recipients), func(i int) string { return p.Recipients[i].ID },
		func(i int) string { return fmt.Sprintf("recipients[%d]", i) })
	c.categories(recipients)
	c.recipients()
	c.storage()
	c.cookies()
	c.privacy()
	c.commerce()
	c.support()
	c.terms()
	c.ids("clause", len(p.Clauses), func(i int) string { return p.Clauses[i].ID },
		func(i int) string { return fmt.Sprintf("clauses[%d]", i) })
	c.art13()
}

var countryAdj = map[Country]string{"SE": "Swedish", "DK": "Danish", "NO": "Norwegian"}

func (c *checker) company() {
	co := c.p.Company
	if co.Country != "" && countryAdj[co.Country] == "" {
		c.errorf("company.country", "Tillit supports companies in SE, DK and NO, not %s", co.Country)
	} else if co.Country != "" && co.OrgNumber != "" {
		if _, err := nordic.ParseOrg(nordic.Country(co.Country), co.OrgNumber); err != nil {
			reason := strings.TrimPrefix(err.Error(), "nordic: ")
			c.errorf("company.org_number", "%q is not a valid %s organisation number: %s", co.OrgNumber, countryAdj[co.Country], reason)
		}
	}
	if co.Email != "" && !validEmail(co.Email) {
		c.errorf("company.email", "%q is not an e-mail address", co.Email)
	}
	if co.DPO != nil && co.DPO.Email != "" && !validEmail(co.DPO.Email) {
		c.errorf("company.dpo.email", "%q is not an e-mail address", co.DPO.Email)
	}
	if co.FiscalYearEnd != "" {
		if _, _, err := parseMonthDay(co.FiscalYearEnd); err != nil {
			c.errorf("company.fiscal_year_end", "%v", err)
		}
	}
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " \t<>,")
}

// parseMonthDay parses MM-DD.
func parseMonthDay(s string) (time.Month, int, error) {
	bad := fmt.Errorf("fiscal year end %q must be MM-DD, e.g. 12-31 or 06-30", s)
	if len(s) != 5 || s[2] != '-' {
		return 0, 0, bad
	}
	m, err1 := strconv.Atoi(s[:2])
	d, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, 0, bad
	}
	if d > nordic.NewDate(2024, time.Month(m)+1, 0).D {
		return 0, 0, fmt.Errorf("fiscal year end %q: month %d has no day %d", s, m, d)
	}
	return time.Month(m), d, nil
}

// FiscalYearEnd returns the company's fiscal-year end, 31 December by
// default.
func (p *Policy) FiscalYearEnd() (time.Month, int) {
	if m, d, err := parseMonthDay(p.Company.FiscalYearEnd); err == nil {
		return m, d
	}
	return time.December, 31
}

func (c *checker) authority() {
	p := c.p
	a, ok := LookupAuthority(p.Authority)
	if !ok {
		return
	}
	if p.Law.Country != "" && a.Country != p.Law.Country {
		c.warnf("authority", "the supervisory authority %s differs from the governing law (%s); data subjects still complain to %s, and the documents will say so (P1)",
			a.Short, p.Law.Country, a.Short)
	}
	if p.Company.Country != "" && a.Country != p.Company.Country {
		want, _ := AuthorityFor(p.Company.Country)
		c.warnf("authority", "a company established in %s normally answers to %s (authority: %s), not %s",
			p.Company.Country, want.Short, want.ID, a.Short)
	}
}

// ruledOutBy lists, for a ruled-out purpose, the purposes that contradict
// it when they appear on a category or a recipient. Each purpose also
// contradicts itself.
var ruledOutBy = map[PurposeKind][]PurposeKind{
	PurposeThirdPartyMarketing: {PurposeTargetedAds},
	PurposeProfiling:           {PurposeTargetedAds},
}

func (c *checker) contradiction(path string, purposes []PurposeKind, recipientController bool) {
	for i, pk := range purposes {
		for _, r := range c.p.Privacy.RuledOut {
			hit := pk == r
			for _, x := range ruledOutBy[r] {
				hit = hit || pk == x
			}
			// Marketing done by a recipient that is its own controller is
			// marketing for someone else.
			if r == PurposeThirdPartyMarketing && recipientController && (pk == PurposeOwnMarketing || pk == PurposeNewsletter) {
				hit = true
			}
			if hit {
				c.errorf(fmt.Sprintf("%s.purposes[%d]", path, i), "purpose %s contradicts privacy.ruled_out: %s", pk, r)
			}
		}
	}
}

func (c *checker) categories(recipients map[string]bool) {
	p := c.p
	c.ids("category", len(p.Categories), func(i int) string { return p.Categories[i].ID },
		func(i int) string { return fmt.Sprintf("categories[%d]", i) })
	recipientIDs := make([]string, 0, len(recipients))
	for id := range recipients {
		recipientIDs = append(recipientIDs, id)
	}
	for i, cat := range p.Categories {
		path := fmt.Sprintf("categories[%d]", i)
		if c.has(path+".purposes") && len(cat.Purposes) == 0 {
			c.errorf(path+".purposes", "a category needs at least one purpose (Art. 13(1)(c))")
		}
		if c.has(path+".sources") && len(cat.Sources) == 0 {
			c.errorf(path+".sources", "a category needs at least one source")
		}
		c.contradiction(path, cat.Purposes, false)
		if cat.Basis == BasisLegitimateInterests && cat.LegitimateInterest.Empty() {
			c.warnf(path+".basis", "legitimate interests must be named in the notice (Art. 13(1)(d)); add legitimate_interest")
		}
		if cat.Basis == BasisConsent && !p.Privacy.Portal && p.Privacy.WithdrawalContact == "" {
			c.errorf(path+".basis", "consent can be withdrawn at any time (Art. 7(3)); set privacy.portal: true or privacy.withdrawal_contact")
		}
		if cat.Provision == "" && c.has(path) {
			c.warnf(path, "say whether giving this data is a statutory or contractual requirement (Art. 13(2)(e)); add provision")
		}
		c.retention(path, cat)
		for j, r := range cat.Recipients {
			if !recipients[r] {
				c.errorf(fmt.Sprintf("%s.recipients[%d]", path, j), "unknown recipient %q%s", r, didYouMean(r, recipientIDs))
			}
		}
	}
}

// bookkeepingLaw names each country's bookkeeping retention in errors.
var bookkeepingLaw = map[Country]string{
	"SE": "bokföringslagen (1999:1078) 7 kap. 2 § (until the end of the seventh year after the fiscal year ends)",
	"DK": "bogføringsloven (lov nr. 700 af 24/05/2022; five years from the end of the fiscal year)",
	"NO": "bokføringsloven (2004) § 13 (five years after the end of the fiscal year)",
}

func (c *checker) retention(path string, cat Category) {
	r := cat.Retention
	rp := path + ".retention"
	if !r.BookkeepingLaw {
		if r.Period.IsZero() {
			return // reported by the decoder
		}
		if !r.Period.Calendar() {
			c.errorf(rp+".period", "a retention period is counted in years, months, weeks or days, not %s", r.Period)
		}
		if r.After == EventConsentWithdrawal && cat.Basis != BasisConsent {
			c.warnf(rp+".after", "retention runs from consent_withdrawal but the basis is %s, not consent", cat.Basis)
		}
	}
	if !cat.Bookkeeping && !contains(cat.Purposes, PurposeBookkeeping) {
		if r.BookkeepingLaw {
			c.warnf(rp, "bookkeeping_law retention on data that is not marked bookkeeping: true")
		}
		return
	}
	country := c.p.Company.Country
	if r.BookkeepingLaw || bookkeepingLaw[country] == "" {
		return
	}
	if short, doc := c.shorterThanLaw(r); short {
		c.errorf(rp, "bookkeeping records kept %s after %s end earlier than %s requires (e.g. a record dated %s); use retention: bookkeeping_law or a longer period",
			r.Period, r.After, bookkeepingLaw[country], doc)
	}
}

// shorterThanLaw reports whether rule r ends before the statutory end for
// some record date; the event is taken at the record date (the earliest a
// contract can end or a purchase be the last), or at its fiscal-year end.
func (c *checker) shorterThanLaw(r Retention) (bool, nordic.Date) {
	m, d := c.p.FiscalYearEnd()
	country := nordic.Country(c.p.Company.Country)
	for y := 2024; y <= 2025; y++ {
		for mo := time.January; mo <= time.December; mo++ {
			for _, day := range []int{1, 28} {
				doc := nordic.NewDate(y, mo, day)
				law, err := nordic.RetentionEnd(country, doc, m, d, false)
				if err != nil {
					return false, doc
				}
				ev := doc
				if r.After == EventFiscalYearEnd {
					ev, _ = nordic.FiscalYearEnd(doc, m, d)
				}
				end := ev.AddMonths(r.Period.Years*12 + r.Period.Months).AddDays(r.Period.Days)
				if end.Before(law) {
					return true, doc
				}
			}
		}
	}
	return false, nordic.Date{}
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (c *checker) transfer(path string, country Country, basis TransferBasis) {
	if country == "" {
		return
	}
	if !InEEA(country) && basis == "" {
		c.errorf(path, "%s is outside the EU/EEA: add transfer: adequacy, scc, bcr or derogation (GDPR Art. 44-49; \"safe third country\" is not a basis)", country)
	}
	if InEEA(country) && basis != "" {
		c.warnf(path+".transfer", "%s is in the EU/EEA; no transfer basis is needed", country)
	}
}

func (c *checker) recipients() {
	for i, r := range c.p.Recipients {
		path := fmt.Sprintf("recipients[%d]", i)
		c.contradiction(path, r.Purposes, r.Role == RoleController)
		if c.has(path+".purposes") && len(r.Purposes) == 0 {
			c.errorf(path+".purposes", "a recipient needs at least one purpose")
		}
		c.transfer(path+".country", r.Country, r.Transfer)
	}
}

func (c *checker) storage() {
	for i, s := range c.p.Storage {
		c.transfer(fmt.Sprintf("storage[%d].country", i), s.Country, s.Transfer)
	}
}

func (c *checker) cookies() {
	seen := map[string]int{}
	for i, ck := range c.p.Cookies {
		path := fmt.Sprintf("cookies[%d]", i)
		key := ck.Provider + "\x00" + ck.Name
		if j, dup := seen[key]; dup && ck.Name != "" {
			l, _ := c.at(fmt.Sprintf("cookies[%d]", j))
			c.errorf(path+".name", "cookie %q from %s is listed twice (first at line %d)", ck.Name, ck.Provider, l)
		}
		seen[key] = i
		if !ck.Lifetime.Session && ck.Lifetime.set && ck.Lifetime.ApproxDays() > 2*365.25 {
			c.warnf(path+".lifetime", "a cookie lifetime over two years is hard to justify")
		}
		if ck.Category == CookieMarketing && contains(c.p.Privacy.RuledOut, PurposeThirdPartyMarketing) && ck.Provider != c.p.Company.Name {
			c.errorf(path+".category", "a marketing cookie set by %s contradicts privacy.ruled_out: third_party_marketing", ck.Provider)
		}
	}
}

func (c *checker) privacy() {
	pr := c.p.Privacy
	if dd := pr.DeletionDeadline; dd.set {
		if !dd.Calendar() {
			c.errorf("privacy.deletion_deadline", "write the deletion deadline in days, weeks or months")
		} else if dd.ApproxDays() > 92 {
			c.warnf("privacy.deletion_deadline", "a deletion deadline of %s is long: an erasure request is answered within one month, three at most (Art. 12(3))", dd)
		}
	}
	if c.has("privacy.staff_access_reasons") && len(pr.StaffAccessReasons) == 0 {
		c.errorf("privacy.staff_access_reasons", "list at least one reason that lets staff open a customer's data (S3)")
	}
	seenR := map[AccessReason]bool{}
	for i, r := range pr.StaffAccessReasons {
		if seenR[r] {
			c.errorf(fmt.Sprintf("privacy.staff_access_reasons[%d]", i), "reason %s listed twice", r)
		}
		seenR[r] = true
	}
	seenP := map[PurposeKind]bool{}
	for i, r := range pr.RuledOut {
		if seenP[r] {
			c.errorf(fmt.Sprintf("privacy.ruled_out[%d]", i), "purpose %s ruled out twice", r)
		}
		seenP[r] = true
	}
	if c.has("privacy.breach_contacts") && len(pr.BreachContacts) == 0 {
		c.errorf("privacy.breach_contacts", "name at least one breach contact (B1)")
	}
	for i, bc := range pr.BreachContacts {
		path := fmt.Sprintf("privacy.breach_contacts[%d]", i)
		if bc.Email == "" && bc.Phone == "" {
			c.errorf(path, "a breach contact needs an email or a phone")
		}
		if bc.Email != "" && !validEmail(bc.Email) {
			c.errorf(path+".email", "%q is not an e-mail address", bc.Email)
		}
	}
	if pr.WithdrawalContact != "" && !validEmail(pr.WithdrawalContact) {
		c.errorf("privacy.withdrawal_contact", "%q is not an e-mail address", pr.WithdrawalContact)
	}
	if pr.AccessReply == ReplyPortal && !pr.Portal {
		c.errorf("privacy.access_reply", "extracts through the portal need privacy.portal: true")
	}
}

func (c *checker) positive(path string, d Duration, what string) {
	if !d.set {
		return
	}
	if d.ApproxDays() == 0 {
		c.errorf(path, "%s cannot be zero", what)
	}
}

func (c *checker) commerce() {
	cm := c.p.Commerce
	if cm == nil {
		return
	}
	if s := cm.Subscription; s != nil {
		c.positive("commerce.subscription.term", s.Term, "a subscription term")
		if s.Term.set && !s.Term.Calendar() {
			c.errorf("commerce.subscription.term", "a subscription term is counted in years, months or days")
		}
		if s.Notice.set && s.Term.set && s.Notice.ApproxDays() > s.Term.ApproxDays() {
			c.warnf("commerce.subscription.notice", "the notice period %s is longer than the term %s", s.Notice, s.Term)
		}
		if c.p.Company.Country == "DK" && s.Term.ApproxDays() > 6*30.44+1 {
			c.warnf("commerce.subscription.term", "a Danish consumer may end a subscription after 5 months with one month's notice (forbrugeraftaleloven § 28)")
		}
	}
	if w := cm.Withdrawal; w != nil {
		if c.has("commerce.withdrawal.days") && w.Days < nordic.StatutoryWithdrawalDays {
			c.errorf("commerce.withdrawal.days", "the law gives consumers at least %d days of withdrawal; %d is too few", nordic.StatutoryWithdrawalDays, w.Days)
		}
		if w.Days > 365 {
			c.errorf("commerce.withdrawal.days", "%d days is not a plausible withdrawal period", w.Days)
		}
	}
	if pm := cm.Payment; pm != nil {
		if pm.DueDays < 0 || pm.DueDays > 365 {
			c.errorf("commerce.payment.due_days", "payment terms of %d days are impossible", pm.DueDays)
		}
		if c.has("commerce.payment.methods") && len(pm.Methods) == 0 {
			c.errorf("commerce.payment.methods", "list at least one payment method")
		}
		var prev Duration
		collected := false
		for i, s := range pm.Dunning {
			path := fmt.Sprintf("commerce.payment.dunning[%d]", i)
			c.positive(path+".after", s.After, "a dunning step")
			if i > 0 && s.After.set && prev.set && s.After.ApproxDays() <= prev.ApproxDays() {
				c.errorf(path+".after", "dunning steps must come later than the step before (%s after %s)", s.After, prev)
			}
			if collected && s.Action == DunReminder {
				c.errorf(path+".action", "after the debt-collection hand-off our own reminders stop (M7)")
			}
			collected = collected || s.Action == DunCollection
			prev = s.After
		}
	}
	if pc := cm.PriceChange; pc != nil {
		if pc.CapPercentPerYear <= 0 || pc.CapPercentPerYear > 100 {
			c.errorf("commerce.price_change.cap_percent_per_year", "a price cap must be above 0 and at most 100 percent")
		}
	}
	if si := cm.SupportIncluded; si != nil {
		c.positive("commerce.support_included.period", si.Period, "a support period")
	}
}

var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-4]):([0-5][0-9])$`)

func (c *checker) support() {
	s := c.p.Support
	if s == nil {
		return
	}
	if h := s.Hours; h != nil {
		okO, okC := clockTime.MatchString(h.Open), clockTime.MatchString(h.Close)
		if !okO {
			c.errorf("support.hours.open", "%q is not a time HH:MM", h.Open)
		}
		if !okC {
			c.errorf("support.hours.close", "%q is not a time HH:MM", h.Close)
		}
		if okO && okC && h.Open >= h.Close {
			c.errorf("support.hours.close", "closing time %s is not after opening time %s", h.Close, h.Open)
		}
	}
	for i, t := range s.Targets {
		path := fmt.Sprintf("support.targets[%d]", i)
		if t.Clock == ClockBusinessHours && s.Hours == nil {
			c.errorf(path+".clock", "a business_hours target needs support.hours")
		}
		if t.Clock != ClockSameDay && t.Clock != "" && !t.Within.set {
			c.errorf(path, "missing within: the time the target allows, e.g. 4h")
		}
		c.positive(path+".within", t.Within, "a target")
	}
	if c.has("support.uptime_percent") && (s.Uptime <= 0 || s.Uptime > 100) {
		c.errorf("support.uptime_percent", "uptime must be above 0 and at most 100 percent")
	}
}

func (c *checker) terms() {
	t := c.p.Terms
	if t.MinimumAge < 0 || t.MinimumAge > 25 {
		c.errorf("terms.minimum_age", "%d is not a plausible minimum age", t.MinimumAge)
	}
}

// art13 warns where the privacy notice would miss something GDPR Art. 13
// requires; the renderer states everything else from fixed text.
func (c *checker) art13() {
	p := c.p
	if !c.has("recipients") {
		c.warnf("", "recipients is missing: the notice must name recipients or their categories (Art. 13(1)(e)); write recipients: [] if there are none")
	}
	if p.Privacy.AutomatedDecisions == nil && c.has("privacy") {
		c.warnf("privacy", "say whether automated decisions are made (Art. 13(2)(f)); add automated_decisions: false")
	}
	if p.Company.Phone == "" && c.has("company") {
		c.warnf("company", "no phone: a phone number makes the controller easier to reach (Art. 13(1)(a))")
	}
	if len(p.Security) == 0 {
		c.warnf("", "security_measures is empty; list the measures the company promises (P1)")
	}
}
