package policy

// AuthorityID names a supervisory authority in the policy file.
type AuthorityID string

// Known supervisory authorities.
const (
	AuthorityIMY            AuthorityID = "imy"
	AuthorityDatatilsynetDK AuthorityID = "datatilsynet_dk"
	AuthorityDatatilsynetNO AuthorityID = "datatilsynet_no"
)

// Authority is a data protection supervisory authority: where a data
// subject complains (Art. 13(2)(d), 77) and where breaches are reported
// (B1). Addresses from the authorities' own pages (legal.md §2); check them
// before each release, they move rarely but they move.
type Authority struct {
	ID      AuthorityID
	Country Country
	Name    Text // the official name, with an English name under "en"
	Short   string
	Address string
	Email   string
	Phone   string
	Website string
	// BreachURL is where a breach is notified (Art. 33).
	BreachURL string
}

var authorities = map[AuthorityID]Authority{
	AuthorityIMY: {
		ID: AuthorityIMY, Country: "SE", Short: "IMY (SE)",
		Name: Text{SV: "Integritetsskyddsmyndigheten (IMY)", DA: "Integritetsskyddsmyndigheten (IMY)",
			NB: "Integritetsskyddsmyndigheten (IMY)", EN: "Integritetsskyddsmyndigheten (IMY, the Swedish Authority for Privacy Protection)"},
		Address:   "Box 8114, 104 20 Stockholm, Sverige",
		Email:     "imy@imy.se",
		Phone:     "+46 8 657 61 00",
		Website:   "https://www.imy.se",
		BreachURL: "https://e-tjanster.imy.se/sv/anmalan",
	},
	AuthorityDatatilsynetDK: {
		ID: AuthorityDatatilsynetDK, Country: "DK", Short: "Datatilsynet (DK)",
		Name: Text{SV: "Datatilsynet (Danmark)", DA: "Datatilsynet", NB: "Datatilsynet (Danmark)",
			EN: "Datatilsynet (the Danish Data Protection Agency)"},
		Address:   "Carl Jacobsens Vej 35, 2500 Valby, Danmark",
		Email:     "dt@datatilsynet.dk",
		Phone:     "+45 33 19 32 00",
		Website:   "https://www.datatilsynet.dk",
		BreachURL: "https://www.datatilsynet.dk/sikkerhedsbrud/anmeld-sikkerhedsbrud",
	},
	AuthorityDatatilsynetNO: {
		ID: AuthorityDatatilsynetNO, Country: "NO", Short: "Datatilsynet (NO)",
		Name: Text{SV: "Datatilsynet (Norge)", DA: "Datatilsynet (Norge)", NB: "Datatilsynet",
			EN: "Datatilsynet (the Norwegian Data Protection Authority)"},
		Address:   "Postboks 458 Sentrum, 0105 Oslo, Norge",
		Email:     "postkasse@datatilsynet.no",
		Phone:     "+47 22 39 69 00",
		Website:   "https://www.datatilsynet.no",
		BreachURL: "https://www.datatilsynet.no/rettigheter-og-plikter/virksomhetenes-plikter/avvikshandtering/meld-avvik-til-datatilsynet/",
	},
}

// LookupAuthority returns the authority with the given id.
func LookupAuthority(id AuthorityID) (Authority, bool) {
	a, ok := authorities[id]
	return a, ok
}

// AuthorityFor returns the authority of a Nordic country.
func AuthorityFor(c Country) (Authority, bool) {
	for _, a := range authorities {
		if a.Country == c {
			return a, true
		}
	}
	return Authority{}, false
}

// eea lists the EU and EEA member states: transfers to them need no
// Chapter V basis.
var eea = map[Country]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true,
	"EE": true, "FI": true, "FR": true, "DE": true, "GR": true, "HU": true, "IE": true,
	"IT": true, "LV": true, "LT": true, "LU": true, "MT": true, "NL": true, "PL": true,
	"PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
	"IS": true, "LI": true, "NO": true,
}

// InEEA reports whether c is an EU or EEA member state.
func InEEA(c Country) bool { return eea[c] }

// countryNames gives the names of countries the renderer is likely to
// meet; other codes are shown as the code.
var countryNames = map[Country]Text{
	"SE": {SV: "Sverige", DA: "Sverige", NB: "Sverige", EN: "Sweden"},
	"DK": {SV: "Danmark", DA: "Danmark", NB: "Danmark", EN: "Denmark"},
	"NO": {SV: "Norge", DA: "Norge", NB: "Norge", EN: "Norway"},
	"FI": {SV: "Finland", DA: "Finland", NB: "Finland", EN: "Finland"},
	"IS": {SV: "Island", DA: "Island", NB: "Island", EN: "Iceland"},
	"DE": {SV: "Tyskland", DA: "Tyskland", NB: "Tyskland", EN: "Germany"},
	"NL": {SV: "Nederländerna", DA: "Holland", NB: "Nederland", EN: "the Netherlands"},
	"IE": {SV: "Irland", DA: "Irland", NB: "Irland", EN: "Ireland"},
	"FR": {SV: "Frankrike", DA: "Frankrig", NB: "Frankrike", EN: "France"},
	"BE": {SV: "Belgien", DA: "Belgien", NB: "Belgia", EN: "Belgium"},
	"US": {SV: "USA", DA: "USA", NB: "USA", EN: "the United States"},
	"GB": {SV: "Storbritannien", DA: "Storbritannien", NB: "Storbritannia", EN: "the United Kingdom"},
	"CH": {SV: "Schweiz", DA: "Schweiz", NB: "Sveits", EN: "Switzerland"},
}

// CountryName is the name of c in lang, or the code when unknown.
func CountryName(c Country, lang Lang) string {
	if t, ok := countryNames[c]; ok {
		return t.In(lang)
	}
	return string(c)
}
