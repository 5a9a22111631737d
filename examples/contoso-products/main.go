// Command contoso-products runs the demo's sample business system on its
// own. Its credentials come from the environment, as a real system's would:
// CONTOSO_API_KEY, CONTOSO_CLIENT_ID, CONTOSO_CLIENT_SECRET.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cardgate/cardgate/examples/contoso-products/contoso"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8083", "address to listen on")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := contoso.Config{APIKey: getenv("CONTOSO_API_KEY"), ClientID: getenv("CONTOSO_CLIENT_ID"), ClientSecret: getenv("CONTOSO_CLIENT_SECRET")}
	if cfg.APIKey == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return fmt.Errorf("set CONTOSO_API_KEY, CONTOSO_CLIENT_ID and CONTOSO_CLIENT_SECRET")
	}
	srv := &http.Server{Addr: *listen, Handler: contoso.New(cfg).Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	fmt.Fprintf(stdout, "contoso-products listening on http://%s\n", *listen)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}
