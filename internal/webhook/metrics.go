package webhook

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kubeshield/kubeshield/internal/admission"
)

// Metrics are the webhook's Prometheus metrics, in a registry of their
// own (with the Go and process collectors). A nil *Metrics records
// nothing.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	violations *prometheus.CounterVec
	errors     *prometheus.CounterVec
	invalids   *prometheus.CounterVec
	failures   *prometheus.CounterVec
}

// NewMetrics returns the webhook's metrics:
//
//	kubeshield_admission_requests_total{webhook,operation,kind,allowed}
//	kubeshield_admission_request_duration_seconds{webhook}
//	kubeshield_admission_policy_violations_total{policy,mode}
//	kubeshield_admission_policy_errors_total{policy}
//	kubeshield_admission_invalid_requests_total{webhook,reason}
//	kubeshield_admission_failures_total{webhook,allowed}  (requests answered by the failure mode)
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeshield_admission_requests_total", Help: "Admission reviews decided, by webhook, operation, kind and outcome.",
		}, []string{"webhook", "operation", "kind", "allowed"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kubeshield_admission_request_duration_seconds", Help: "Time to decide an admission review.",
			Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"webhook"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeshield_admission_policy_violations_total", Help: "Requests a policy found violations in, by policy and mode.",
		}, []string{"policy", "mode"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeshield_admission_policy_errors_total", Help: "Requests a policy could not decide (error, panic, timeout).",
		}, []string{"policy"}),
		invalids: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeshield_admission_invalid_requests_total", Help: "Requests that were not valid admission reviews, by reason.",
		}, []string{"webhook", "reason"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeshield_admission_failures_total", Help: "Requests answered by the server's failure mode.",
		}, []string{"webhook", "allowed"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.violations, m.errors, m.invalids, m.failures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *Metrics) observe(hook string, r *admission.Request, d admission.Decision, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(hook, string(r.Operation), r.Kind.Kind, strconv.FormatBool(d.Allowed)).Inc()
	m.duration.WithLabelValues(hook).Observe(took.Seconds())
	for _, res := range d.Results {
		if len(res.Violations) > 0 {
			m.violations.WithLabelValues(res.Policy, string(res.Mode)).Inc()
		}
		if res.Err != nil {
			m.errors.WithLabelValues(res.Policy).Inc()
		}
	}
}

func (m *Metrics) invalid(hook, reason string) {
	if m != nil {
		m.invalids.WithLabelValues(hook, reason).Inc()
	}
}

func (m *Metrics) failure(hook string, closed bool) {
	if m != nil {
		m.failures.WithLabelValues(hook, strconv.FormatBool(!closed)).Inc()
	}
}
