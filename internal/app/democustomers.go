package app

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"tillit/internal/customer"
	"tillit/internal/security"
)

// Skatteverket's test personal identity numbers: demo customers never carry a number
// that could belong to a real person.
//
//go:embed demodata/testpersonnummer.txt
var demoIdentityNumbers []byte

// Made-up names for a living demo register; any likeness is chance.
var (
	demoFirst = []string{"Anna", "Erik", "Maja", "Lars", "Elsa", "Nils", "Ingrid", "Oskar", "Sigrid", "Axel",
		"Freja", "Gustav", "Linnea", "Hugo", "Saga", "Viktor", "Ebba", "Magnus", "Tove", "Henrik"}
	demoLast = []string{"Lindqvist", "Bergström", "Åkesson", "Holmgren", "Nyberg", "Sjödin", "Ekdahl", "Fors",
		"Wikström", "Dahlberg", "Lundmark", "Öberg", "Hagström", "Strand", "Björklund"}
	demoStreets = []string{"Björkvägen", "Storgatan", "Kvarngränd", "Sjöviksvägen", "Ekbacken", "Tallstigen"}
	demoCities  = []struct{ postal, city string }{{"11122", "Stockholm"}, {"41102", "Göteborg"}, {"21115", "Malmö"},
		{"75310", "Uppsala"}, {"90326", "Umeå"}, {"58222", "Linköping"}}
)

// loadDemoCustomers fills an empty demo register with a few hundred fictional
// customers, their phones in the range the Swedish regulator keeps for fiction
// (070-174 06 00 to 06 99).
func loadDemoCustomers(ctx context.Context, svc *customer.Service, w interface{ Write([]byte) (int, error) }) error {
	ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "demo"})
	var numbers []string
	sc := bufio.NewScanner(bytes.NewReader(demoIdentityNumbers))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			numbers = append(numbers, line)
		}
	}
	work := make(chan int)
	errs := make(chan error, len(numbers))
	var wg sync.WaitGroup
	for range 8 { // concurrent creates share group commits
		wg.Go(func() {
			for i := range work {
				first, last := demoFirst[i%len(demoFirst)], demoLast[(i/len(demoFirst)+i)%len(demoLast)]
				place := demoCities[i%len(demoCities)]
				_, err := svc.Create(ctx, customer.NewCustomer{
					Kind: customer.KindPerson, Country: "SE", Status: customer.StatusActive,
					Name:           first + " " + last,
					Email:          fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), asciiFold(last), i),
					Phone:          fmt.Sprintf("070-174 06 %02d", i%100),
					IdentityNumber: numbers[i],
					Addresses: map[customer.AddressRole]customer.Address{customer.AddressRegistered: {
						Street: fmt.Sprintf("%s %d", demoStreets[i%len(demoStreets)], 1+i%40), PostalCode: place.postal, City: place.city}},
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range numbers {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("demo customers: %w", err)
	}
	fmt.Fprintf(w, "Demo register: %d fictional customers.\n", len(numbers))
	return nil
}

func asciiFold(s string) string {
	return strings.NewReplacer("å", "a", "ä", "a", "ö", "o", "Å", "A", "Ä", "A", "Ö", "O").Replace(strings.ToLower(s))
}
