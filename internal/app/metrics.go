package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tillit/internal/store"
)

// queueCollector exports how many jobs and outbox messages are in each state, read
// from the database at scrape time, so every process reports the same shared truth
// and a failed job or a stuck message shows on a dashboard.
type queueCollector struct {
	st    *store.Store
	jobs  *prometheus.Desc
	mail  *prometheus.Desc
	scrap *prometheus.Desc
}

func newQueueCollector(st *store.Store) *queueCollector {
	return &queueCollector{
		st:    st,
		jobs:  prometheus.NewDesc("tillit_jobs", "Jobs in the queue by state.", []string{"state"}, nil),
		mail:  prometheus.NewDesc("tillit_mail_outbox", "Outbox messages by state.", []string{"state"}, nil),
		scrap: prometheus.NewDesc("tillit_queue_scrape_error", "1 when the queue counts could not be read.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.mail
	ch <- c.scrap
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	failed := 0.0
	for _, q := range []struct {
		desc  *prometheus.Desc
		query string
	}{
		{c.jobs, `SELECT state, COUNT(*) FROM jobs GROUP BY state`},
		{c.mail, `SELECT state, COUNT(*) FROM mail_outbox GROUP BY state`},
	} {
		if err := c.collect(ctx, ch, q.desc, q.query); err != nil {
			failed = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(c.scrap, prometheus.GaugeValue, failed)
}

func (c *queueCollector) collect(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, query string) error {
	rows, err := c.st.DB().QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n float64
		if err := rows.Scan(&state, &n); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, n, state)
	}
	return rows.Err()
}
