package bench

import (
	"fmt"
	"net/http"
	"testing"
)

const receiptsPerIter = 512

var receiptBody = []byte(`{"visitor_id":"v-0123456789abcdef","policy_version":1,"choices":{"preferences":false,"statistics":true,"marketing":false},"gpc":false,"lang":"sv"}`)

// BenchmarkConsentReceipts32 posts cookie-banner receipts (POST /cookies/consent, the
// public, unauthenticated, durable ingest path) from 32 concurrent clients and compares
// the rate with the raw durable commit rate of one client (issue 9 target: >= 2x).
// Each request comes from its own visitor address through a trusted proxy, as on a
// real site, so the per-address rate limit does not throttle the load generator.
func BenchmarkConsentReceipts32(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			raw := d.raw(b)
			srv := startTillitWith(b, d.dsn(b), []string{"--trusted-proxies", "127.0.0.1"},
				func(common []string) []string {
					return append(append([]string{"policy", "publish"}, common...), "../examples/policies/saas.yaml")
				})
			post := &target{client: newClient(), method: http.MethodPost, url: srv.URL + "/cookies/consent", body: receiptBody,
				header: http.Header{"Content-Type": {"application/json"}}, want: http.StatusCreated,
				vary: func(req *http.Request, n int64) {
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
				}}
			warm(b, post)
			warmWrites(b, raw, post)
			var tm, rm meter
			for i := 0; b.Loop(); i++ {
				for j := range 2 {
					if (i+j)%2 == 0 {
						d, err := post.drive(receiptsPerIter, clients)
						tm.add(b, receiptsPerIter, d, err)
					} else {
						d, err := raw.commit(rawPerIter)
						rm.add(b, rawPerIter, d, err)
					}
				}
			}
			b.ReportMetric(tm.rate(), "receipts/s")
			b.ReportMetric(rm.rate(), "raw-commits/s")
			b.ReportMetric(tm.rate()/rm.rate(), "ratio-raw")
		})
	}
}
