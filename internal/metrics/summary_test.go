package metrics

import (
	"encoding/base64"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestEncodeHDRIsHdrHistogramsOwnForm: the stored histogram is the string
// every HdrHistogram library decodes (Java's
// Histogram.decodeFromCompressedByteBuffer after one base64 decode, hdr-
// histogram-js's decodeFromCompressedBase64, HdrHistogram_c's
// hdr_log_decode): one base64 layer over the V2 compressed bytes, whose
// first word is the compressed-encoding cookie.
func TestEncodeHDRIsHdrHistogramsOwnForm(t *testing.T) {
	h := NewHistogram()
	for v := int64(1); v <= 1000; v++ {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := EncodeHDR(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "HISTFAAA") {
		t.Fatalf("encoded histogram starts %.12q, want HdrHistogram's HISTFAAA…", enc)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("not one layer of base64: %v", err)
	}
	if cookie := int32(binary.BigEndian.Uint32(raw[:4])) &^ 0xf0; cookie != hdr.V2CompressedEncodingCookieBase {
		t.Fatalf("cookie %#x, want the V2 compressed encoding's %#x", cookie, hdr.V2CompressedEncodingCookieBase)
	}
	back, err := DecodeHDR(enc)
	if err != nil || back.TotalCount() != 1000 || back.ValueAtQuantile(99) != h.ValueAtQuantile(99) {
		t.Fatalf("round trip: err %v, count %d", err, back.TotalCount())
	}
}

// TestDecodeHDRReadsTheOldForm: results written before the fix stored the
// encoding base64-encoded a second time; they still load. The fixture is
// such a string, written by the old EncodeHDR from 1..10,000 µs once each
// and 100 samples at 250 ms (its figures, as that version reported them,
// below).
func TestDecodeHDRReadsTheOldForm(t *testing.T) {
	old, err := os.ReadFile("testdata/hdr-double-base64.txt")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(old))
	if !strings.HasPrefix(s, "SElTVEZBQUFB") { // base64 of "HISTFAAA"
		t.Fatalf("the fixture is not of the old form: %.12q", s)
	}
	h, err := DecodeHDR(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"count", h.TotalCount(), 10100},
		{"p50", h.ValueAtQuantile(50), 5051},
		{"p99", h.ValueAtQuantile(99), 9999},
		{"p99.9", h.ValueAtQuantile(99.9), 250111},
		{"max", h.Max(), 250111},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestDecodeHDRRefusesWhatIsNoHistogram: neither form is an error naming
// what was wrong, never a panic.
func TestDecodeHDRRefusesWhatIsNoHistogram(t *testing.T) {
	for _, s := range []string{"", "not base64!", base64.StdEncoding.EncodeToString([]byte("plain text, no histogram")),
		"HISTFAAA", base64.StdEncoding.EncodeToString([]byte("HISTFAAA"))} {
		if _, err := DecodeHDR(s); err == nil || !strings.Contains(err.Error(), "hdr") {
			t.Errorf("DecodeHDR(%q) = %v, want an error naming the histogram", s, err)
		}
	}
}
