package customer

import (
	"context"
	"errors"
	"fmt"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Erase carries out the erasure of a customer (R4): their data key is destroyed first,
// which makes every copy of their sealed data unreadable, backups included; then every
// sealed value, its history and the notes are deleted and the blind indexes cleared,
// so neither the data nor a keyed hash of it stays. The row keeps the customer number,
// kind, country and dates. Erasing an erased customer does nothing more. Data other
// rooms must keep by law (bookkeeping) is theirs to hold; this room holds none.
func (s *Service) Erase(ctx context.Context, id string, why Reason) error {
	if err := why.valid(); err != nil {
		return err
	}
	var exists int
	err := s.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE id = $1`, id).Scan(&exists)
	if err != nil {
		return store.Classify(err)
	}
	if exists == 0 {
		return ErrNotFound
	}
	if err := s.ks.Shred(ctx, id); err != nil && !errors.Is(err, security.ErrShredded) {
		return fmt.Errorf("erase customer %s: destroy key: %w", id, err)
	}
	now := store.Micros(s.now())
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, q := range []string{
			`DELETE FROM customer_fields WHERE customer_id = $1`,
			`DELETE FROM customer_field_history WHERE customer_id = $1`,
			`DELETE FROM customer_notes WHERE customer_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET identity_bidx = NULL, email_bidx = NULL, phone_bidx = NULL,
			status = 'ended', ended_at = COALESCE(ended_at, $1), erased_at = COALESCE(erased_at, $1), updated_at = $1
			WHERE id = $2`, now, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.erase", SubjectKind: subject, SubjectID: id,
			Reason: why.String()})
	})
}
