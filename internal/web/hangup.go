package web

import (
	"context"
	"errors"
	"net/http"
)

// A client that hangs up (a closed tab, a dropped connection, a load
// balancer giving up) cancels its request's context, and whatever the
// handler was waiting for (the database, mostly) fails with it. That is
// not a server error: it is logged at INFO as "client closed request" and
// answered, to nobody, with nginx's 499 so that the access log says what
// happened. 500 and ERROR stay for real failures.

// statusClientClosedRequest is nginx's non-standard 499.
const statusClientClosedRequest = 499

// clientGone reports whether the client of r hung up.
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// clientClosed answers a request whose client hung up while err happened.
func (s *Server) clientClosed(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Info("client closed request", "method", r.Method, "path", r.URL.Path, "err", err)
	w.WriteHeader(statusClientClosedRequest)
}

// logFailure logs a failure the handler goes on after: at ERROR, unless
// the client hung up, which caused it.
func (s *Server) logFailure(r *http.Request, msg string, args ...any) {
	if clientGone(r) {
		s.log.Info("client closed request: "+msg, append([]any{"method", r.Method, "path", r.URL.Path}, args...)...)
		return
	}
	s.log.Error(msg, args...)
}
