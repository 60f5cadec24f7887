package metrics

import (
	"encoding/base64"
	"fmt"
	"strings"

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
	// HDR is the histogram in HdrHistogram's V2 compressed encoding, base64
	// (the "HISTFAAA…" text): any HdrHistogram implementation can decode,
	// merge and re-report it.
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

// EncodeHDR encodes h as a Summary's HDR field: HdrHistogram's own
// compressed form, the base64 text beginning "HISTFAAA" that the Java, C,
// Python, JavaScript and Go libraries decode (hdrhistogram-go's Encode
// already returns it base64-encoded).
func EncodeHDR(h *hdr.Histogram) (string, error) {
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(enc), nil
}

// DecodeHDR decodes a Summary's HDR field back into a histogram. It reads
// both HdrHistogram's own form and the one results stored before it, which
// base64-encoded that text a second time: the compressed form's first
// bytes (its cookie) always encode as "HIST", the old form's as "SElTV"
// (base64 of "HIST"), so one look tells them apart.
func DecodeHDR(s string) (*hdr.Histogram, error) {
	enc := []byte(s)
	if !strings.HasPrefix(s, standardPrefix) {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !strings.HasPrefix(string(raw), standardPrefix) {
			return nil, fmt.Errorf("hdr: not an HdrHistogram compressed histogram (want base64 text beginning %q)", standardPrefix)
		}
		enc = raw
	}
	h, err := hdr.Decode(enc)
	if err != nil {
		return nil, fmt.Errorf("hdr: %w", err)
	}
	return h, nil
}

// standardPrefix begins every base64 V2 compressed histogram: the first
// three bytes of its cookie (0x1c8493).
const standardPrefix = "HIST"

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}
