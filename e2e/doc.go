// Package e2e holds the browser end-to-end test: `cardgate demo` on
// loopback, driven in a real headless Chromium. It has no code of its own.
package e2e
