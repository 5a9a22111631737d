// Package cardgate holds the domain of the cardgate system: the users, action
// packages, clients, signing keys and revocations that the Integration Service
// manages, the Identity a token stands for, the Store those live in, and the
// Error type every part of the system reports failures with.
//
// The package imports nothing but the standard library. Adapters live in
// packages of their own (sqlite, postgres, issuer, verify, adapter) and
// cmd/cardgate wires them together.
package cardgate
