package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
)

// Value formats a figure's value by its unit: latencies as durations,
// rates and counts with thousands separators, seconds and cores with two
// decimals, bytes in MiB.
func Value(unit catalog.Unit, v float64) string {
	switch unit {
	case catalog.Micros:
		return Micros(int64(v + 0.5))
	case catalog.Seconds, catalog.Cores:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case catalog.Bytes:
		return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB"
	}
	return Rate(v)
}

// Signed formats a difference of a figure's values with its sign.
func Signed(unit catalog.Unit, d float64) string {
	if d < 0 {
		return "-" + Value(unit, -d)
	}
	return "+" + Value(unit, d)
}

// Markdown writes a GitHub-flavoured markdown table; the first lead
// columns are left-aligned (names), the others right-aligned (numbers).
func Markdown(w io.Writer, header []string, lead int, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|", strings.Join(header, " | "))
	for i := range header {
		if i < lead {
			fmt.Fprint(w, "---|")
		} else {
			fmt.Fprint(w, "---:|")
		}
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

// Micros formats a latency in microseconds with three significant digits
// and a unit that suits it: 850µs, 1.23ms, 4.56s.
func Micros(us int64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%dµs", us)
	case us < 1_000_000:
		return fixedSig3(float64(us)/1e3) + "ms"
	default:
		return fixedSig3(float64(us)/1e6) + "s"
	}
}

// MicrosPtr formats a nullable latency; null is "-".
func MicrosPtr(us *int64) string {
	if us == nil {
		return "-"
	}
	return Micros(*us)
}

// fixedSig3 formats f (at least 1: Micros scales to ms or s first) in
// fixed point with three significant digits, keeping trailing zeros so a
// column of latencies has one width: 1.00, 12.3, 123. Chart tick labels
// use a different rule — at most three digits, zeros trimmed.
func fixedSig3(f float64) string {
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	default:
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
}

// Count formats an integer with thousands separators.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Rate formats a per-second rate with thousands separators.
func Rate(r float64) string { return Count(int64(r + 0.5)) }

// CountPtr formats a nullable count; null is "-".
func CountPtr(n *int64) string {
	if n == nil {
		return "-"
	}
	return Count(*n)
}

// RatePtr formats a nullable rate; null is "-".
func RatePtr(r *float64) string {
	if r == nil {
		return "-"
	}
	return Rate(*r)
}
