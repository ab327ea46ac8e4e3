// Package metrics owns the Prometheus registry: request counts and latencies per route, the Go
// runtime and process collectors, and any counter another package registers through it.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process's metrics; build one in the composition root and pass it down.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	refused  *prometheus.CounterVec
}

// New registers the HTTP, Go runtime and process collectors.
func New() *Registry {
	reg := prometheus.NewRegistry()
	r := &Registry{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mmconsole_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mmconsole_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	r.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mmconsole_http_body_refused_total",
		Help: "Requests refused before their handler because of their body or pace, by route (webhook or dashboard) and reason: too large (413), slow body or slow header (408), body memory full (503), unreadable body (400).",
	}, []string{"route", "reason"})
	reg.MustRegister(r.requests, r.latency, r.refused,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// ObserveRequest records one finished request. route is the pattern ("/messages/:wamid"), not
// the path, so that label values stay few.
func (r *Registry) ObserveRequest(method, route string, code int, d time.Duration) {
	r.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	r.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// BodyRefused counts one request refused for its body or pace (route: "webhook" or
// "dashboard").
func (r *Registry) BodyRefused(route, reason string) {
	r.refused.WithLabelValues(route, reason).Inc()
}

// BodyBytesHeld reports, at each scrape, the request body bytes held in memory at once over all
// requests (held gives the value; MMC_BODY_MEMORY is its ceiling).
func (r *Registry) BodyBytesHeld(held func() float64) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mmconsole_http_body_bytes_held",
		Help: "Request body bytes held in memory now, over all requests (at most MMC_BODY_MEMORY).",
	}, held))
}

// MustRegister adds collectors owned by other packages (webhook counters, Graph API calls).
func (r *Registry) MustRegister(cs ...prometheus.Collector) { r.reg.MustRegister(cs...) }

// Handler serves the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}
