package zoomsim

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkGetMeeting measures GET /v2/meetings/{id} over real HTTP from
// parallel clients: the simulator's request rate (see req/s).
func BenchmarkGetMeeting(b *testing.B) {
	ts := startSim(b, Options{Limits: &Limits{Off: true}}) // the request rate, not Zoom's limits
	c := ts.client(b, "licensed@example.com")
	url := ts.base + "/v2" + meetingPath(c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "bench"}))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+c.access)
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
