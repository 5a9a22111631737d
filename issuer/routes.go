package issuer

import "net/http"

// routes lists every endpoint of the Integration Service.
func (h *handler) routes(mux *http.ServeMux) {
	// Kaizala's contract: who does this token stand for?
	mux.Handle("GET /v1/users/me", h.usersMe())
	mux.Handle("POST /v1/tokens", h.host(h.mintToken()))

	// Offline verification and discovery.
	mux.Handle("GET /.well-known/jwks.json", h.jwks())
	mux.Handle("GET /.well-known/openid-configuration", h.discovery())
	mux.Handle("POST /oauth2/introspect", h.resourceServer(h.introspect()))
	mux.Handle("GET /v1/revocations", h.resourceServer(h.revocationFeed()))
	mux.Handle("POST /v1/revocations", h.admin(h.revoke()))

	// Administration.
	mux.Handle("GET /v1/admin/users", h.admin(h.listUsers()))
	mux.Handle("POST /v1/admin/users", h.admin(h.createUser()))
	mux.Handle("GET /v1/admin/users/{id}", h.admin(h.getUser()))
	mux.Handle("POST /v1/admin/users/{id}/disable", h.admin(h.setUserDisabled(true)))
	mux.Handle("POST /v1/admin/users/{id}/enable", h.admin(h.setUserDisabled(false)))
	mux.Handle("GET /v1/admin/packages", h.admin(h.listPackages()))
	mux.Handle("POST /v1/admin/packages", h.admin(h.createPackage()))
	mux.Handle("GET /v1/admin/packages/{id}", h.admin(h.getPackage()))
	mux.Handle("POST /v1/admin/packages/{id}/disable", h.admin(h.setPackageDisabled(true)))
	mux.Handle("POST /v1/admin/packages/{id}/enable", h.admin(h.setPackageDisabled(false)))
	mux.Handle("GET /v1/admin/clients", h.admin(h.listClients()))
	mux.Handle("POST /v1/admin/clients", h.admin(h.createClient()))
	mux.Handle("DELETE /v1/admin/clients/{id}", h.admin(h.deleteClient()))
	mux.Handle("GET /v1/admin/conversations", h.admin(h.listConversations()))
	mux.Handle("POST /v1/admin/conversations", h.admin(h.createConversation()))
	mux.Handle("GET /v1/admin/conversations/{id}", h.admin(h.getConversation()))
	mux.Handle("GET /v1/admin/conversations/{id}/members", h.admin(h.listMembers()))
	mux.Handle("POST /v1/admin/conversations/{id}/members", h.admin(h.putMember()))
	mux.Handle("DELETE /v1/admin/conversations/{id}/members/{userId}", h.admin(h.removeMember()))
	mux.Handle("GET /v1/admin/conversations/{id}/forms", h.admin(h.listForms()))
	mux.Handle("GET /v1/admin/keys", h.admin(h.listKeys()))
	mux.Handle("POST /v1/admin/keys/rotate", h.admin(h.rotateKey()))

	// Operations.
	mux.Handle("GET /healthz", h.healthz())
	mux.Handle("GET /readyz", h.readyz())
	if h.opts.Metrics != nil {
		mux.Handle("GET /metrics", h.metricsHandler())
	}
}
