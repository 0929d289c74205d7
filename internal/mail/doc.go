// Package mail is Tillit's outgoing mail: a transactional outbox, the message
// templates (sv, da, nb, en) and delivery over SMTP.
//
// A room that causes a mail calls Outbox.Enqueue inside its own store.Write, so the
// mail exists exactly when the change commits, and is never sent for a change that
// rolled back. The row holds the template name, the locale and ciphertext: the
// address and the data (ids, a link token) are sealed with the mail-outbox key and
// bound to the row id. The body is rendered only while sending; once the SMTP server
// has accepted the message, both ciphertexts are emptied and the row keeps only its
// id, template and times.
//
// Delivery (Outbox.Run, or one pass with Outbox.DeliverDue) claims one due row at a
// time with a lease. A crash after commit leaves the row pending, and a crash while
// sending leaves it held until the lease runs out; either way a later pass, in this
// process or another, sends it. The row is marked sent in a Write right after the
// server accepted it. Only a crash in the instant between the two can send a message
// twice, and then both copies carry the same Message-ID, derived from the row id, so
// receivers can drop the second. Temporary failures are retried with backoff; a 5xx
// refusal of the recipient or message, or running out of attempts, marks the row
// failed. Errors are stored and logged as SMTP stage and code only, because server
// texts quote addresses.
package mail
