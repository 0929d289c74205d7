package incident

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tillit/internal/nordic"
	"tillit/internal/policy"
)

// Draft is the Art. 33(3) notification drafted from the register, in the language of
// the company's supervisory authority (IMY: Swedish, Datatilsynet DK: Danish,
// Datatilsynet NO: Norwegian bokmål). Staff check and complete it before sending it
// through the authority's own form (Authority.BreachURL).
type Draft struct {
	IncidentID string         `json:"incident_id"`
	Lang       string         `json:"lang"` // sv, da, nb
	Authority  DraftAuthority `json:"authority"`
	AwareAt    time.Time      `json:"aware_at"`
	Deadline   time.Time      `json:"deadline"`
	Sections   []DraftSection `json:"sections"`
	Missing    []string       `json:"missing"` // item keys still to be given (Art. 33(4): in phases)
	Text       string         `json:"text"`
	Reported   *Report        `json:"reported,omitempty"`
}

// DraftAuthority is where the notification goes.
type DraftAuthority struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	BreachURL string `json:"breach_url"`
}

// DraftSection is one item of the notification: Key names it (nature, categories,
// people, records, contact, consequences, measures, times), Body is "" when missing.
type DraftSection struct {
	Key     string `json:"key"`
	Heading string `json:"heading"`
	Body    string `json:"body"`
}

// Draft item keys, in the order of Art. 33(3).
const (
	ItemNature       = "nature"
	ItemCategories   = "data_categories"
	ItemPeople       = "approx_people"
	ItemRecords      = "approx_records"
	ItemContact      = "contact"
	ItemConsequences = "likely_consequences"
	ItemMeasures     = "measures"
)

type phrases struct {
	title, intro, aware, deadline, occurred, unknown, missing, phases, none, late string
	headings                                                                      map[string]string
	natures                                                                       map[Nature]string
	taken, proposed, name, email, phone                                           string
}

var langPhrases = map[policy.Lang]phrases{
	policy.SV: {
		title:    "Anmälan av personuppgiftsincident (artikel 33 i dataskyddsförordningen)",
		intro:    "Utkast till anmälan till %s. Kontrollera uppgifterna innan anmälan lämnas.",
		aware:    "Tidpunkt då vi fick kännedom om incidenten",
		deadline: "Senaste tidpunkt för anmälan (72 timmar)",
		occurred: "Tidpunkt då incidenten inträffade",
		unknown:  "ej känd",
		missing:  "Uppgifter som saknas och lämnas i ett senare skede (artikel 33.4)",
		phases:   "Uppgifterna lämnas stegvis eftersom utredningen pågår.",
		none:     "Inga uppgifter saknas.",
		late:     "Anmälan görs efter 72 timmar; skälen till dröjsmålet ska anges.",
		headings: map[string]string{
			ItemNature:       "Personuppgiftsincidentens art",
			ItemCategories:   "Kategorier av personuppgifter",
			ItemPeople:       "Ungefärligt antal berörda registrerade",
			ItemRecords:      "Ungefärligt antal berörda registerposter",
			ItemContact:      "Kontaktuppgifter till dataskyddsombud eller annan kontaktpunkt",
			ItemConsequences: "Sannolika konsekvenser av incidenten",
			ItemMeasures:     "Åtgärder som vidtagits eller föreslagits",
		},
		natures: map[Nature]string{
			NatureConfidentiality: "brott mot konfidentialiteten (obehörigt röjande av eller obehörig åtkomst till personuppgifter)",
			NatureIntegrity:       "brott mot riktigheten (obehörig eller oavsiktlig ändring av personuppgifter)",
			NatureAvailability:    "brott mot tillgängligheten (förlust av åtkomst till eller förstöring av personuppgifter)",
		},
		taken: "Vidtagna åtgärder", proposed: "Föreslagna åtgärder", name: "Namn", email: "E-post", phone: "Telefon",
	},
	policy.DA: {
		title:    "Anmeldelse af brud på persondatasikkerheden (databeskyttelsesforordningens artikel 33)",
		intro:    "Udkast til anmeldelse til %s. Kontrollér oplysningerne, før anmeldelsen indsendes.",
		aware:    "Tidspunkt, hvor vi blev bekendt med bruddet",
		deadline: "Seneste tidspunkt for anmeldelse (72 timer)",
		occurred: "Tidspunkt, hvor bruddet skete",
		unknown:  "ikke kendt",
		missing:  "Manglende oplysninger, som gives på et senere tidspunkt (artikel 33, stk. 4)",
		phases:   "Oplysningerne gives trinvis, da undersøgelsen er i gang.",
		none:     "Ingen oplysninger mangler.",
		late:     "Anmeldelsen sker efter 72 timer; årsagerne til forsinkelsen skal angives.",
		headings: map[string]string{
			ItemNature:       "Bruddets karakter",
			ItemCategories:   "Kategorier af personoplysninger",
			ItemPeople:       "Omtrentligt antal berørte registrerede",
			ItemRecords:      "Omtrentligt antal berørte registreringer af personoplysninger",
			ItemContact:      "Kontaktoplysninger på databeskyttelsesrådgiveren eller et andet kontaktpunkt",
			ItemConsequences: "Sandsynlige konsekvenser af bruddet",
			ItemMeasures:     "Foranstaltninger, der er truffet eller foreslået",
		},
		natures: map[Nature]string{
			NatureConfidentiality: "brud på fortroligheden (uautoriseret videregivelse af eller adgang til personoplysninger)",
			NatureIntegrity:       "brud på integriteten (uautoriseret eller hændelig ændring af personoplysninger)",
			NatureAvailability:    "brud på tilgængeligheden (tab af adgang til eller tilintetgørelse af personoplysninger)",
		},
		taken: "Trufne foranstaltninger", proposed: "Foreslåede foranstaltninger", name: "Navn", email: "E-mail", phone: "Telefon",
	},
	policy.NB: {
		title:    "Melding om brudd på personopplysningssikkerheten (personvernforordningen artikkel 33)",
		intro:    "Utkast til melding til %s. Kontroller opplysningene før meldingen sendes.",
		aware:    "Tidspunkt da vi ble kjent med bruddet",
		deadline: "Siste frist for melding (72 timer)",
		occurred: "Tidspunkt da bruddet skjedde",
		unknown:  "ikke kjent",
		missing:  "Manglende opplysninger som gis senere (artikkel 33 nr. 4)",
		phases:   "Opplysningene gis trinnvis fordi undersøkelsen pågår.",
		none:     "Ingen opplysninger mangler.",
		late:     "Meldingen sendes etter 72 timer; grunnene til forsinkelsen skal oppgis.",
		headings: map[string]string{
			ItemNature:       "Bruddets art",
			ItemCategories:   "Kategorier av personopplysninger",
			ItemPeople:       "Omtrentlig antall berørte registrerte",
			ItemRecords:      "Omtrentlig antall berørte registreringer av personopplysninger",
			ItemContact:      "Kontaktopplysninger til personvernombudet eller et annet kontaktpunkt",
			ItemConsequences: "Sannsynlige konsekvenser av bruddet",
			ItemMeasures:     "Tiltak som er truffet eller foreslått",
		},
		natures: map[Nature]string{
			NatureConfidentiality: "brudd på konfidensialiteten (uautorisert utlevering av eller tilgang til personopplysninger)",
			NatureIntegrity:       "brudd på integriteten (uautorisert eller utilsiktet endring av personopplysninger)",
			NatureAvailability:    "brudd på tilgjengeligheten (tap av tilgang til eller tilintetgjøring av personopplysninger)",
		},
		taken: "Tiltak som er truffet", proposed: "Foreslåtte tiltak", name: "Navn", email: "E-post", phone: "Telefon",
	},
}

var langs = map[nordic.Country]policy.Lang{nordic.SE: policy.SV, nordic.DK: policy.DA, nordic.NO: policy.NB}

// Draft renders the Art. 33(3) notification of breach id in the language of the
// company's authority: fixed headings and phrases, the facts from the register and
// Options.Contact, and the items still missing. A customer-side incident has none
// (ErrNotBreach).
func (s *Service) Draft(ctx context.Context, id string) (Draft, error) {
	i, err := s.load(ctx, s.st.DB(), id)
	if err != nil {
		return Draft{}, err
	}
	if i.Kind != KindBreach || i.Deadline == nil {
		return Draft{}, ErrNotBreach
	}
	lang := langs[s.country]
	p := langPhrases[lang]
	a := s.authority
	d := Draft{IncidentID: i.ID, Lang: string(lang), AwareAt: i.AwareAt, Deadline: *i.Deadline, Missing: []string{}, Reported: i.Report,
		Authority: DraftAuthority{ID: string(a.ID), Name: a.Name.In(lang), Email: a.Email, Phone: a.Phone, BreachURL: a.BreachURL}}

	var natures []string
	for _, n := range i.Nature {
		natures = append(natures, p.natures[n])
	}
	count := func(n *int64) string {
		if n == nil {
			return ""
		}
		return strconv.FormatInt(*n, 10)
	}
	var contact []string
	if c := s.contact; c.Name != "" || c.Email != "" || c.Phone != "" {
		for _, f := range [][2]string{{p.name, c.Name}, {p.email, c.Email}, {p.phone, c.Phone}} {
			if f[1] != "" {
				contact = append(contact, f[0]+": "+f[1])
			}
		}
	}
	var measures []string
	if i.MeasuresTaken != "" {
		measures = append(measures, p.taken+": "+i.MeasuresTaken)
	}
	if i.MeasuresProposed != "" {
		measures = append(measures, p.proposed+": "+i.MeasuresProposed)
	}
	bodies := []struct{ key, body string }{
		{ItemNature, strings.Join(natures, "; ")},
		{ItemCategories, strings.Join(i.DataCategories, ", ")},
		{ItemPeople, count(i.ApproxPeople)},
		{ItemRecords, count(i.ApproxRecords)},
		{ItemContact, strings.Join(contact, "\n")},
		{ItemConsequences, i.LikelyConsequences},
		{ItemMeasures, strings.Join(measures, "\n")},
	}

	var b strings.Builder
	b.WriteString(p.title + "\n\n")
	fmt.Fprintf(&b, p.intro+"\n\n", a.Name.In(lang))
	fmt.Fprintf(&b, "%s: %s\n", p.aware, s.format(i.AwareAt))
	fmt.Fprintf(&b, "%s: %s\n", p.deadline, s.format(*i.Deadline))
	occurred := p.unknown
	if i.OccurredAt != nil {
		occurred = s.format(*i.OccurredAt)
	}
	fmt.Fprintf(&b, "%s: %s\n", p.occurred, occurred)
	if late := i.Report != nil && i.Report.At.After(*i.Deadline) || i.Report == nil && s.now().After(*i.Deadline); late {
		b.WriteString(p.late + "\n")
	}
	for _, x := range bodies {
		sec := DraftSection{Key: x.key, Heading: p.headings[x.key], Body: x.body}
		d.Sections = append(d.Sections, sec)
		b.WriteString("\n" + sec.Heading + "\n")
		if sec.Body == "" {
			d.Missing = append(d.Missing, x.key)
			b.WriteString("[" + p.unknown + "]\n")
		} else {
			b.WriteString(sec.Body + "\n")
		}
	}
	b.WriteString("\n" + p.missing + "\n")
	if len(d.Missing) == 0 {
		b.WriteString(p.none + "\n")
	} else {
		for _, k := range d.Missing {
			b.WriteString("- " + p.headings[k] + "\n")
		}
		b.WriteString(p.phases + "\n")
	}
	d.Text = b.String()
	return d, nil
}

// format shows an instant in the company's zone, with the zone's abbreviation.
func (s *Service) format(t time.Time) string { return t.In(s.loc).Format("2006-01-02 15:04 MST") }
