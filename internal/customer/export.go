package customer

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"tillit/internal/security"
	"tillit/internal/store"
)

// ExportPermission is what a caller of Export must hold: the register's personal data
// leaves in the clear. Export itself does not know the principal; the CLI and any HTTP
// route check it before calling.
const ExportPermission = security.PermCustomersRead

// ExportColumns is the header Export writes; Import reads it back (id and number are
// ignored there: imported customers get their own).
var ExportColumns = func() []string {
	cols := []string{"id", "number", "kind", "status", "country", "language", "name", "email", "phone", "identity_number", "org_number"}
	for _, r := range AddressRoles {
		for _, p := range []string{"street", "postal_code", "city", "country"} {
			cols = append(cols, string(r)+"_"+p)
		}
	}
	return append(cols, "contacts")
}()

const exportPage = 500

// Export writes the register as CSV (UTF-8, comma-separated, ExportColumns), decrypted,
// for the reason given, and returns how many customers it wrote. One customer.export
// audit entry with the reason and the count commits before any personal data is
// written. The export covers the customers that exist when it starts (by customer
// number); it streams page by page, so memory stays bounded whatever the register's
// size. An erased customer (key shredded) is written with its personal columns empty.
// progress, if not nil, gets the customers written and the total.
func (s *Service) Export(ctx context.Context, w io.Writer, why Reason, progress func(done, total int)) (int, error) {
	if err := why.valid(); err != nil {
		return 0, err
	}
	var total int
	var last int64
	if err := s.st.DB().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(number), 0) FROM customers`).Scan(&total, &last); err != nil {
		return 0, store.Classify(err)
	}
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.export", SubjectKind: subject, SubjectID: "*",
			Reason: why.String(), Detail: detail(map[string]any{"count": total, "through_number": last})})
	})
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportColumns); err != nil {
		return 0, err
	}
	done := 0
	var after int64
	rec := make([]string, len(ExportColumns))
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		page, err := s.exportPage(ctx, after, last)
		if err != nil {
			return done, err
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			c.record(rec)
			if err := cw.Write(rec); err != nil {
				return done, err
			}
		}
		done += len(page)
		after = page[len(page)-1].Number
		cw.Flush()
		if err := cw.Error(); err != nil {
			return done, err
		}
		if progress != nil {
			progress(done, total)
		}
	}
	cw.Flush()
	return done, cw.Error()
}

// exportPage reads and decrypts the customers numbered after..through, a page at a time.
func (s *Service) exportPage(ctx context.Context, after, through int64) ([]*Customer, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT id, number, kind, status, language, country FROM customers
		WHERE number > $1 AND number <= $2 ORDER BY number LIMIT `+strconv.Itoa(exportPage), after, through)
	if err != nil {
		return nil, store.Classify(err)
	}
	var page []*Customer
	byID := map[string]*Customer{}
	for rows.Next() {
		c := &Customer{}
		if err := rows.Scan(&c.ID, &c.Number, &c.Kind, &c.Status, &c.Language, &c.Country); err != nil {
			rows.Close()
			return nil, err
		}
		page = append(page, c)
		byID[c.ID] = c
	}
	if err := rows.Close(); err != nil {
		return nil, store.Classify(err)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Classify(err)
	}
	if len(page) == 0 {
		return nil, nil
	}
	ph := make([]string, len(page))
	args := make([]any, len(page))
	for i, c := range page {
		ph[i], args[i] = "$"+strconv.Itoa(i+1), c.ID
	}
	frows, err := s.st.DB().QueryContext(ctx, `SELECT customer_id, field, value FROM customer_fields
		WHERE customer_id IN (`+strings.Join(ph, ", ")+`) ORDER BY customer_id`, args...)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer frows.Close()
	erased := map[string]bool{}
	for frows.Next() {
		var id, field string
		var ct []byte
		if err := frows.Scan(&id, &field, &ct); err != nil {
			return nil, err
		}
		if erased[id] {
			continue
		}
		b, err := s.ks.Decrypt(ctx, id, field, ct)
		if errors.Is(err, security.ErrShredded) {
			erased[id] = true
			c := byID[id]
			*c = Customer{ID: c.ID, Number: c.Number, Kind: c.Kind, Status: c.Status, Language: c.Language, Country: c.Country}
			continue
		}
		if err != nil {
			return nil, unreadable(id, err)
		}
		if err := byID[id].setField(field, b); err != nil {
			return nil, fmt.Errorf("customer %s, field %s: %w", id, field, err)
		}
	}
	return page, store.Classify(frows.Err())
}

// record fills rec in the order of ExportColumns.
func (c *Customer) record(rec []string) {
	i := 0
	put := func(s string) { rec[i] = s; i++ }
	put(c.ID)
	put(strconv.FormatInt(c.Number, 10))
	put(string(c.Kind))
	put(string(c.Status))
	put(string(c.Country))
	put(c.Language)
	put(c.Name)
	put(c.Email)
	put(c.Phone)
	put(c.IdentityNumber)
	put(c.OrgNumber)
	for _, r := range AddressRoles {
		a, ok := c.Addresses[r]
		if !ok {
			put("")
			put("")
			put("")
			put("")
			continue
		}
		put(a.Street)
		put(a.PostalCode)
		put(a.City)
		put(string(a.Country))
	}
	contacts := ""
	if len(c.Contacts) > 0 {
		if b, err := json.Marshal(c.Contacts); err == nil {
			contacts = string(b)
		}
	}
	put(contacts)
}
