// Package cards holds the demo's two action packages, as folders an
// operator would import with `cardgate packages import`: "Order products"
// (orders/), which fills a drop-down with Contoso's products through the
// adapter and places orders, and "Survey" (survey/), a Kaizala-style card
// that the adapter does not let read the products; and, when the demo is
// given Kaizala's SDK (--kaizala), "Products (Kaizala SDK)" (kaizala/),
// written as a Kaizala card is, with Kaizala's own KASClient.js, which is
// not in this repository: the demo adds it.
//
// Both name the adapter as http://127.0.0.1:8081 (DefaultServiceURL); the
// demo rewrites that when the adapter listens elsewhere.
package cards

import (
	"embed"
	"io/fs"
)

//go:embed orders survey kaizala
var files embed.FS

// DefaultServiceURL is the adapter's URL as the packages spell it.
const DefaultServiceURL = "http://127.0.0.1:8081"

// Orders, Survey and Kaizala are the packages' folders.
var (
	Orders, _  = fs.Sub(files, "orders")
	Survey, _  = fs.Sub(files, "survey")
	Kaizala, _ = fs.Sub(files, "kaizala")
)
