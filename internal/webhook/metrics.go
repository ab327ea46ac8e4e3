package webhook

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the receiver's counters; register Collectors() once with the process registry.
type Metrics struct {
	Deliveries    *prometheus.CounterVec
	Rejections    *prometheus.CounterVec
	Events        *prometheus.CounterVec
	Duplicates    prometheus.Counter
	BatchSize     prometheus.Histogram
	CommitLatency prometheus.Histogram

	// The stored sample of rejections: rows written, left out (by why) and pruned beyond the cap.
	RejectionsStored    prometheus.Counter
	RejectionsNotStored *prometheus.CounterVec
	RejectionsPruned    prometheus.Counter

	WALBytes     prometheus.Gauge
	WALOverLimit prometheus.Gauge
	Pruned       *prometheus.CounterVec
}

// NewMetrics builds the receiver's collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mmconsole_webhook_deliveries_total",
			Help: "Webhook deliveries by result: accepted, unparseable (stored raw and acknowledged) or rejected.",
		}, []string{"result"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mmconsole_webhook_rejections_total",
			Help: "Webhook deliveries refused before processing, by reason.",
		}, []string{"reason"}),
		RejectionsStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mmconsole_webhook_rejections_stored_total",
			Help: "Refused webhook posts stored in the rejections table (a sample of them).",
		}),
		RejectionsNotStored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mmconsole_webhook_rejections_not_stored_total",
			Help: "Refused webhook posts counted but not stored, by why: sampled out, queue full, write failed, shutting down.",
		}, []string{"why"}),
		RejectionsPruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mmconsole_webhook_rejections_pruned_total",
			Help: "Stored refused posts deleted because the table passed its cap (MMC_WEBHOOK_REJECTIONS_KEEP).",
		}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mmconsole_webhook_events_total",
			Help: "Webhook events stored, by kind (duplicates not included).",
		}, []string{"kind"}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mmconsole_webhook_duplicate_events_total",
			Help: "Webhook events that were already stored (Meta redelivered them).",
		}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mmconsole_webhook_commit_batch_deliveries",
			Help:    "Deliveries committed together in one transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		CommitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mmconsole_webhook_commit_seconds",
			Help:    "Time to commit one group of deliveries.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		WALBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mmconsole_database_wal_bytes",
			Help: "Size of the SQLite write-ahead log file (-wal), sampled by the checkpointer.",
		}),
		WALOverLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mmconsole_database_wal_over_limit",
			Help: "1 while the write-ahead log is larger than MMC_WAL_ALERT_SIZE, else 0.",
		}),
		Pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mmconsole_retention_pruned_total",
			Help: "Rows deleted because they are older than MMC_RETENTION, by table.",
		}, []string{"table"}),
	}
}

// Collectors lists everything to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Deliveries, m.Rejections, m.RejectionsStored, m.RejectionsNotStored, m.RejectionsPruned, m.Events, m.Duplicates, m.BatchSize, m.CommitLatency,
		m.WALBytes, m.WALOverLimit, m.Pruned}
}
