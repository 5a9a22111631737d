//go:build linked

package main

// Built with -tags linked, this benchmark's binary links every package of
// cardgate without calling any: its bare proxy is then the
// reverseproxy-linked target, the same ReverseProxy in a binary of
// cardgate's size, with cardgate's start-up data on the heap.
import _ "github.com/cardgate/cardgate/cli"
