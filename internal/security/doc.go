// Package security owns who may do what: staff and customer sessions, roles, API
// tokens, rate limits, key management and field encryption, and the audit chain.
package security
