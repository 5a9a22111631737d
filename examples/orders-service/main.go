// Command orders-service is a small service a card calls: it trusts
// cardgate's Integration Service through package verify and keeps each
// user's orders apart, authorizing on the user id and the action package
// id together. See README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8084", "address to listen on")
	iss := fs.String("issuer", "http://127.0.0.1:8080", "cardgate Integration Service URL")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	v, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: *iss + "/v1/users/me"})
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *listen, Handler: newHandler(v), ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	fmt.Fprintf(stdout, "orders-service listening on http://%s, trusting %s\n", *listen, *iss)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// order is what a user asked for, from which card.
type order struct {
	Item string `json:"item"`
}

// newHandler serves GET and POST /orders for the Order products card only.
func newHandler(v verify.Verifier) http.Handler {
	var (
		mu     sync.Mutex
		orders = map[string][]order{} // by user id + package id
	)
	key := func(id *verify.Identity) string { return id.UserID + "/" + id.ActionPackageID }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.IdentityFrom(r.Context())
		mu.Lock()
		mine := append([]order{}, orders[key(id)]...)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"user": id.UserID, "orders": mine})
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.IdentityFrom(r.Context())
		var o order
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&o); err != nil || o.Item == "" {
			http.Error(w, `{"error":{"code":"InvalidRequest","message":"body: want {\"item\": \"...\"}"}}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		orders[key(id)] = append(orders[key(id)], o)
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})
	return verify.Middleware(v, verify.AllowPackages("com.contoso.orders"))(mux)
}
