package customer

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// Opt is one member of a JSON merge patch (RFC 7396): absent (Set false), null (Set
// and Null: remove the value), or a new value.
type Opt[T any] struct {
	Set  bool
	Null bool
	V    T
}

// Value returns an Opt that sets v.
func Value[T any](v T) Opt[T] { return Opt[T]{Set: true, V: v} }

// Remove returns an Opt that removes the value.
func Remove[T any]() Opt[T] { return Opt[T]{Set: true, Null: true} }

func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.V)
}

// AddressPatch merges into an address; a new address needs street, postal code and city.
type AddressPatch struct {
	Street     Opt[string] `json:"street"`
	PostalCode Opt[string] `json:"postal_code"`
	City       Opt[string] `json:"city"`
	Country    Opt[string] `json:"country"`
}

// Patch is a JSON merge patch of a customer's master data. Kind and country cannot be
// changed. An address merges member by member (null removes the address); contacts are
// replaced as a whole list.
type Patch struct {
	Name           Opt[string]                            `json:"name"`
	Email          Opt[string]                            `json:"email"`
	Phone          Opt[string]                            `json:"phone"`
	IdentityNumber Opt[string]                            `json:"identity_number"`
	OrgNumber      Opt[string]                            `json:"org_number"`
	Language       Opt[string]                            `json:"language"`
	Status         Opt[Status]                            `json:"status"`
	Addresses      Opt[map[AddressRole]Opt[AddressPatch]] `json:"addresses"`
	Contacts       Opt[[]Contact]                         `json:"contacts"`
}

func str(o Opt[string], cur string) string {
	switch {
	case !o.Set:
		return cur
	case o.Null:
		return ""
	}
	return o.V
}

// apply merges p into c and validates the result, returning the new field values and
// the new status bookkeeping. Fields that cannot be null say so.
func (p Patch) apply(c Customer, on time.Time) (Customer, values, error) {
	var v validator
	n := c
	if p.Name.Set {
		if p.Name.Null {
			v.add("/name", "is required")
		} else {
			n.Name = v.text("/name", p.Name.V, 200, true)
		}
	}
	if p.Email.Set {
		n.Email = v.email("/email", str(p.Email, ""))
	}
	if p.Phone.Set {
		n.Phone = v.phone("/phone", str(p.Phone, ""), c.Country)
	}
	if p.IdentityNumber.Set {
		if c.Kind != KindPerson && !p.IdentityNumber.Null {
			v.add("/identity_number", "companies have an org_number instead")
		} else {
			n.IdentityNumber = v.identity(c.Country, str(p.IdentityNumber, ""), on)
		}
	}
	if p.OrgNumber.Set {
		if c.Kind != KindCompany && !p.OrgNumber.Null {
			v.add("/org_number", "only companies have an organisation number")
		} else {
			n.OrgNumber = v.org(c.Country, str(p.OrgNumber, ""))
		}
	}
	if p.Language.Set {
		if p.Language.Null || !slices.Contains(Languages, p.Language.V) {
			v.add("/language", "must be one of sv, da, nb, en")
		} else {
			n.Language = p.Language.V
		}
	}
	if p.Status.Set {
		switch {
		case p.Status.Null || (p.Status.V != StatusProspect && p.Status.V != StatusActive && p.Status.V != StatusEnded):
			v.add("/status", "must be prospect, active or ended")
		case p.Status.V == StatusEnded && c.Status != StatusEnded:
			t := on.UTC()
			n.Status, n.EndedAt = StatusEnded, &t
		case p.Status.V != StatusEnded:
			n.Status, n.EndedAt = p.Status.V, nil
		}
	}
	if p.Addresses.Set {
		n.Addresses = map[AddressRole]Address{}
		if !p.Addresses.Null {
			for role, a := range c.Addresses {
				n.Addresses[role] = a
			}
			for _, role := range sortedRoles(p.Addresses.V) {
				ap := p.Addresses.V[role]
				ptr := "/addresses/" + string(role)
				if !slices.Contains(AddressRoles, role) {
					v.add(ptr, "unknown role; use registered, invoice, installation or delivery")
					continue
				}
				if ap.Null {
					delete(n.Addresses, role)
					continue
				}
				cur := c.Addresses[role]
				a := Address{
					Street:     str(ap.V.Street, cur.Street),
					PostalCode: str(ap.V.PostalCode, cur.PostalCode),
					City:       str(ap.V.City, cur.City),
					Country:    cur.Country,
				}
				if ap.V.Country.Set {
					a.Country = ""
					if !ap.V.Country.Null {
						a.Country = countryOf(ap.V.Country.V)
					}
				}
				n.Addresses[role] = v.address(ptr, a, c.Country)
			}
		}
	}
	if p.Contacts.Set {
		n.Contacts = nil
		if !p.Contacts.Null {
			if c.Kind != KindCompany {
				v.add("/contacts", "only companies have contact persons")
			} else {
				n.Contacts = v.contacts(p.Contacts.V, c.Country)
			}
		}
	}
	if err := v.err(); err != nil {
		return c, nil, err
	}
	return n, n.values(), nil
}

// values is what is stored for c, by field name.
func (c Customer) values() values {
	vals := values{"name": c.Name, "language": c.Language, "status": string(c.Status)}
	set := func(k, s string) {
		if s != "" {
			vals[k] = s
		}
	}
	set("email", c.Email)
	set("phone", c.Phone)
	set("identity_number", c.IdentityNumber)
	set("org_number", c.OrgNumber)
	for role, a := range c.Addresses {
		vals["addresses/"+string(role)] = a
	}
	if len(c.Contacts) > 0 {
		vals["contacts"] = c.Contacts
	}
	return vals
}
