package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubeshield/kubeshield/internal/admission"
)

// Defaults of a Server.
const (
	// DefaultTimeout bounds one review: shorter than the webhook
	// configurations' timeout (5 s) so the answer is Kubeshield's, not the
	// API server's failure policy.
	DefaultTimeout = 4 * time.Second
	// DefaultMaxBodyBytes bounds a request body (the API server's own
	// limit on objects is 3 MiB; a review carries two of them).
	DefaultMaxBodyBytes = admission.DefaultMaxReviewSize
)

// GCPercent is the garbage collector target the webhook runs with
// (TuneGC): each review allocates its decoded objects and Rego values, and
// collecting less often keeps the latency tail short; the process's soft
// memory limit still bounds the heap.
const GCPercent = 400

// TuneGC sets the garbage collector target to GCPercent unless GOGC says
// otherwise. The webhook calls it at start.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// Server answers AdmissionReview requests on /validate and /mutate and
// serves /healthz, /readyz and /metrics. It is safe for concurrent use;
// the engine it asks can be swapped (configuration reload) while it runs.
type Server struct {
	// Engine returns the engine in service; never nil once Ready.
	Engine func() *admission.Engine
	// Namespaces gives namespace labels to the policies.
	Namespaces admission.NamespaceLabeler
	// Decisions receives one record per decision; nil keeps none.
	Decisions *admission.DecisionLog
	// Logger receives errors and recovered panics; nil discards them.
	Logger *slog.Logger
	// Metrics are updated per request; nil keeps none.
	Metrics *Metrics
	// Timeout bounds one review; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBodyBytes bounds a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// FailClosed says how to answer a request the server cannot review
	// (a malformed or wrong-kind AdmissionReview that still has a uid, a
	// failure of the server itself): deny when true, admit when false.
	// Policies' own failures follow each policy's failure policy.
	FailClosed bool
	// Ready reports whether the server can answer (configuration loaded,
	// caches synced); nil means always.
	Ready func() error
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) { s.serveReview(w, r, "validate") })
	mux.HandleFunc("/mutate", func(w http.ResponseWriter, r *http.Request) { s.serveReview(w, r, "mutate") })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	if s.Metrics != nil {
		mux.Handle("/metrics", s.Metrics.Handler())
	}
	return mux
}

func (s *Server) ready() error {
	if s.Engine == nil || s.Engine() == nil {
		return errors.New("no policy engine")
	}
	if s.Ready != nil {
		return s.Ready()
	}
	return nil
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Logger
}

// serveReview answers one AdmissionReview for the webhook named hook.
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, hook string) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		s.Metrics.invalid(hook, "method")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "content type must be application/json", http.StatusUnsupportedMediaType)
		s.Metrics.invalid(hook, "content-type")
		return
	}
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		s.Metrics.invalid(hook, "read")
		return
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	var uid types.UID
	defer func() {
		// A panic outside the policies (which the engine recovers): answer
		// per the server's failure mode, keeping the request's uid.
		if v := recover(); v != nil {
			s.logger().Error("webhook panic", slog.String("webhook", hook), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			s.Metrics.invalid(hook, "panic")
			s.writeFailure(w, uid, hook, "internal error")
		}
	}()

	review, err := admission.DecodeReview(bytes.NewReader(body), limit)
	if err != nil {
		reason := "invalid"
		if errors.Is(err, admission.ErrReviewTooLarge) {
			reason = "too-large"
		}
		s.Metrics.invalid(hook, reason)
		uid = lenientUID(body)
		if uid == "" {
			// Nothing to answer: the API server applies the webhook's
			// failure policy to the error.
			http.Error(w, "not an AdmissionReview: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.writeFailure(w, uid, hook, err.Error())
		return
	}
	uid = review.Request.UID
	eng := s.Engine()
	if eng == nil {
		s.writeFailure(w, uid, hook, "no policy engine loaded")
		return
	}
	req, err := admission.NewRequest(ctx, review.Request, s.Namespaces)
	if err != nil {
		s.Metrics.invalid(hook, "request")
		s.writeFailure(w, uid, hook, err.Error())
		return
	}
	d := eng.Review(ctx, req)
	switch hook {
	case "validate":
		// The API server rejects a validating webhook's patch.
		d = d.WithoutPatch()
	case "mutate":
		// The mutating webhook only patches: it sees the object before
		// later mutating webhooks have run, so denials are left to the
		// validating webhook, which sees the final object (and runs the
		// same policies). Its warnings come from there too.
		if !d.Allowed {
			d = admission.Decision{UID: d.UID, Allowed: true, Results: d.Results, Latency: d.Latency}
		}
		d.Warnings = nil
	}
	if s.Decisions != nil {
		if err := s.Decisions.WriteFrom(hook, req, d); err != nil {
			s.logger().Error("write decision log", slog.Any("error", err))
		}
	}
	s.Metrics.observe(hook, req, d, time.Since(start))
	writeJSON(w, admission.Response(review, d))
}

// writeFailure answers a request the server could not review, per
// FailClosed.
func (s *Server) writeFailure(w http.ResponseWriter, uid types.UID, hook, why string) {
	resp := &admissionv1.AdmissionResponse{UID: uid, Allowed: !s.FailClosed}
	msg := fmt.Sprintf("kubeshield %s webhook could not review the request: %s", hook, why)
	if len(msg) > admission.MaxMessageRunes {
		msg = msg[:admission.MaxMessageRunes]
	}
	if s.FailClosed {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: msg}
	} else {
		resp.Warnings = []string{truncate(msg, admission.MaxWarningRunes)}
	}
	s.Metrics.failure(hook, s.FailClosed)
	writeJSON(w, &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: resp,
	})
}

// lenientUID finds request.uid in a body that is not a valid review.
func lenientUID(body []byte) types.UID {
	var probe struct {
		Request *struct {
			UID types.UID `json:"uid"`
		} `json:"request"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.Request == nil || len(probe.Request.UID) > 128 {
		return ""
	}
	return probe.Request.UID
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
