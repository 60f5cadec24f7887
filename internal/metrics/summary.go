package metrics

import (
	"encoding/base64"
	"fmt"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Summary describes one latency distribution, in microseconds. It is the
// JSON shape of every latency in the result.
type Summary struct {
	Count   int64   `json:"count"`
	MinUs   int64   `json:"min_us"`
	MeanUs  float64 `json:"mean_us"`
	P50Us   int64   `json:"p50_us"`
	P75Us   int64   `json:"p75_us"`
	P90Us   int64   `json:"p90_us"`
	P95Us   int64   `json:"p95_us"`
	P99Us   int64   `json:"p99_us"`
	P999Us  int64   `json:"p999_us"`
	P9999Us int64   `json:"p9999_us"`
	MaxUs   int64   `json:"max_us"`
	// HDR is the histogram in HdrHistogram's V2 compressed encoding, base64:
	// any HdrHistogram implementation can decode, merge and re-report it.
	HDR string `json:"hdr"`
}

// Percentiles reported for every latency, in the order of Summary's fields.
var reportedPercentiles = []float64{50, 75, 90, 95, 99, 99.9, 99.99}

// Summarize computes the summary of h, or nil when h holds no sample (a
// latency that does not apply to a run is null in the result).
func Summarize(h *hdr.Histogram) (*Summary, error) {
	if h == nil || h.TotalCount() == 0 {
		return nil, nil
	}
	p := h.ValueAtPercentilesSlice(reportedPercentiles)
	enc, err := EncodeHDR(h)
	if err != nil {
		return nil, err
	}
	return &Summary{
		Count: h.TotalCount(), MinUs: h.Min(), MeanUs: round2(h.Mean()),
		P50Us: p[0], P75Us: p[1], P90Us: p[2], P95Us: p[3], P99Us: p[4], P999Us: p[5], P9999Us: p[6],
		MaxUs: h.Max(), HDR: enc,
	}, nil
}

// EncodeHDR encodes h as a Summary's HDR field: HdrHistogram's V2
// compressed encoding, base64.
func EncodeHDR(h *hdr.Histogram) (string, error) {
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return base64.StdEncoding.EncodeToString(enc), nil
}

// DecodeHDR decodes a Summary's HDR field back into a histogram.
func DecodeHDR(s string) (*hdr.Histogram, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("hdr: %w", err)
	}
	return hdr.Decode(raw)
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}
